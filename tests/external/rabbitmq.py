#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway RabbitMQ node (Debian's rabbitmq-server, 3.10) for the AMQP
tests and the benchmark: started as root or any user without systemd, on
loopback ports of its own (AMQP, Erlang distribution, EPMD), with a node
name and a temporary directory of its own for data, logs, config and the
Erlang cookie. Waited for (rabbitmqctl await_startup), and stopped cleanly
(rabbitmqctl stop, then a SIGKILL of whatever of ours is left: the node's
beam and its epmd, found by the node name in their environment).

As a module:  rmq = RabbitMQ(); rmq.start(); ... rmq.port ...; rmq.stop()
As a program: rabbitmq.py start DIR   (prints "amqp://guest:guest@127.0.0.1:PORT")
              rabbitmq.py stop DIR
The default user guest/guest may log in on loopback.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

RMQ_BIN = os.environ.get("RABBITMQ_BIN_DIR", "/usr/lib/rabbitmq/bin")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


class RabbitMQError(Exception):
    pass


def available():
    """Whether a RabbitMQ server can be started here at all."""
    return (os.access(os.path.join(RMQ_BIN, "rabbitmq-server"), os.X_OK)
            and os.access(os.path.join(RMQ_BIN, "rabbitmqctl"), os.X_OK))


def free_port():
    # Erlang binds its ports itself: this may race with another process,
    # which the start then reports as a failure to listen.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RabbitMQ:
    def __init__(self, directory=None, config=""):
        """directory: kept (and reused by stop()) when given; a fresh
        temporary one otherwise, removed by stop(). config: extra lines for
        rabbitmq.conf (e.g. "heartbeat = 10")."""
        self.own_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="ssq-rabbitmq-")
        os.makedirs(self.dir, exist_ok=True)
        self.extra_config = config
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.user = "guest"
        self.password = "guest"
        self.env = None

    # -- environment ------------------------------------------------------

    def _state_file(self):
        return os.path.join(self.dir, "node.env")

    def _make_env(self):
        if os.path.exists(self._state_file()):
            # A node already started in this directory (stop by a second
            # process, as bench-amqp.sh does).
            saved = {}
            with open(self._state_file()) as f:
                for line in f:
                    k, _, v = line.rstrip("\n").partition("=")
                    saved[k] = v
        else:
            saved = {
                "RABBITMQ_NODENAME": f"ssqtest{os.getpid()}x{int(time.time()) % 100000}@localhost",
                "RABBITMQ_NODE_PORT": str(free_port()),
                "RABBITMQ_DIST_PORT": str(free_port()),
                "ERL_EPMD_PORT": str(free_port()),
            }
            with open(self._state_file(), "w") as f:
                for k, v in saved.items():
                    f.write(f"{k}={v}\n")
        env = dict(os.environ)
        # Whatever the caller has for a RabbitMQ or Erlang of its own goes.
        for k in list(env):
            if k.startswith("RABBITMQ_") or k.startswith("ERL_"):
                del env[k]
        d = self.dir
        env.update(saved)
        env.update({
            "HOME": d,   # the Erlang cookie lives in $HOME
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(d, "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(d, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d, "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(d, "plugins-expand"),
            "RABBITMQ_PID_FILE": os.path.join(d, "rabbitmq.pid"),
            "RABBITMQ_LOGS": os.path.join(d, "log", "rabbit.log"),
        })
        self.port = int(saved["RABBITMQ_NODE_PORT"])
        self.nodename = saved["RABBITMQ_NODENAME"]
        return env

    def _write_config(self):
        d = self.dir
        for sub in ("mnesia", "log", "plugins-expand"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                    "loopback_users.guest = true\n"
                    "log.console = false\n"
                    "log.file.level = warning\n"
                    # This machine's disk may be nearly full: the tests
                    # must not stall on the disk alarm.
                    "disk_free_limit.absolute = 1MB\n"
                    + self.extra_config)
        with open(os.path.join(d, "advanced.config"), "w") as f:
            f.write("[].\n")
        with open(os.path.join(d, "rabbitmq-env.conf"), "w") as f:
            f.write("")
        with open(os.path.join(d, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        cookie = os.path.join(d, ".erlang.cookie")
        if not os.path.exists(cookie):
            with open(cookie, "w") as f:
                f.write(os.urandom(16).hex().upper())
            os.chmod(cookie, 0o400)

    def ctl(self, *args, timeout=60):
        return subprocess.run([os.path.join(RMQ_BIN, "rabbitmqctl"), "-n", self.nodename, *args],
                              env=self.env, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    # -- life -------------------------------------------------------------

    def start(self):
        if not available():
            raise RabbitMQError(f"no rabbitmq-server in {RMQ_BIN}")
        self.env = self._make_env()
        self._write_config()
        out = open(os.path.join(self.dir, "startup.log"), "wb")
        # start_new_session: a ^C at the caller's terminal is the caller's
        # to handle, and it stops us through stop().
        self.proc = subprocess.Popen([os.path.join(RMQ_BIN, "rabbitmq-server")],
                                     env=self.env, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RabbitMQError(f"rabbitmq-server exited with {self.proc.returncode}: "
                                    + self.startup_tail())
            if self._amqp_answers():
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RabbitMQError("RabbitMQ did not listen within "
                                    f"{START_TIMEOUT:.0f} s: " + self.startup_tail())
            time.sleep(0.3)
        r = self.ctl("await_startup", timeout=START_TIMEOUT)
        if r.returncode != 0:
            raise RabbitMQError("rabbitmqctl await_startup: " + r.stderr.decode(errors="replace"))
        return self.url()

    def url(self):
        return f"amqp://{self.user}:{self.password}@{self.host}:{self.port}"

    def _amqp_answers(self):
        """The listener takes a protocol header and answers connection.start."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                data = s.recv(7)
                return len(data) == 7 and data[0] == 1
        except OSError:
            return False

    def startup_tail(self, n=12):
        try:
            with open(os.path.join(self.dir, "startup.log"), errors="replace") as f:
                return " | ".join(f.read().splitlines()[-n:])
        except OSError:
            return "(no startup log)"

    def _our_pids(self):
        """Processes whose environment names our node: the beam, epmd,
        erl_child_setup, inet_gethost (all inherit the start's environment)."""
        mark = f"RABBITMQ_NODENAME={self.nodename}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                pass
        return pids

    def stop(self):
        """rabbitmqctl stop, then SIGKILL of our leftovers; the temporary
        directory goes if we made it."""
        if self.env is None:
            self.env = self._make_env()
        try:
            self.ctl("stop", timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        if self.proc is not None:
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        for pid in self._our_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    rmq = RabbitMQ(directory=os.path.abspath(argv[2]))
    if argv[1] == "start":
        try:
            print(rmq.start(), flush=True)
        except RabbitMQError as e:
            print(f"rabbitmq.py: {e}", file=sys.stderr)
            return 1
        # The node runs on in its own session after we exit.
        return 0
    rmq.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
