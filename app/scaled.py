"""``make run-scaled``: the scaled deployment, on this machine, under supervisord.

    python -m app.scaled [--port 8080] [--webs 2] [--workers 2] [--run-dir scaled]

It prepares a run folder (a PostgreSQL cluster made by ``initdb`` as ``postgres``, the
shared ``SECRET_KEY``, nginx's and supervisord's configuration), then becomes
``supervisord -n``, which starts and restarts what dies:

* PostgreSQL (as ``postgres``) and Redis (as the web's user), on 127.0.0.1 only;
* a one-shot migration (``flask db upgrade`` and ``flask bank load``, as the web's user);
* ``--webs`` gunicorn processes on gevent workers, as the web's user;
* ``--workers`` ``flask worker`` processes (root: the sandbox needs it);
* nginx: its master (root) binds the port, its workers (the web's user) parse HTTP and
  spread requests and WebSockets over the web processes, with no stickiness.

supervisord runs without its HTTP control interface (nothing that parses HTTP is root's);
Ctrl-C stops everything. ``python -m app.scaled wait -- CMD`` (what the web processes and
workers start through) waits for the database, Redis and the migration, then runs CMD.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
MIGRATED = "migrated"  # the migration's mark in the state folder
# Settings passed on from the caller's environment to every program.
PASSED_ON = (
    "SOCKETS_PER_USER",
    "MAX_PENDING_SUBMISSIONS",
    "SUBMISSIONS_PER_MINUTE",
    "STALE_SECONDS",
    "SWEEP_SECONDS",
    "HEARTBEAT_SECONDS",
    "METRICS_TOKEN",
    "SESSION_COOKIE_SECURE",
)


def say(message: str) -> None:
    print(f"[loopback-scaled] {message}", file=sys.stderr, flush=True)


def as_user(name: str) -> list[str]:
    entry = pwd.getpwnam(name)
    return [
        "setpriv",
        f"--reuid={entry.pw_uid}",
        f"--regid={entry.pw_gid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


class Layout:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.run = Path(args.run_dir).resolve()
        self.web_user = args.web_user
        self.web_ports = [args.first_web_port + n for n in range(args.webs)]

    @property
    def database_url(self) -> str:
        return f"postgresql://loopback@127.0.0.1:{self.args.pg_port}/loopback"

    def environment(self, secret: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.args.redis_port}/0",
            "SECRET_KEY": secret,
            "LOOPBACK_DEPLOYMENT": self.args.deployment,
            "LOOPBACK_INSTANCE": str(self.run / "instance"),
            "FLASK_APP": "wsgi",
            "SOCKETIO_ASYNC_MODE": "gevent",
            "PROXY_COUNT": "1",  # nginx sets X-Forwarded-For/-Proto/-Host
            "LOOPBACK_SCALED_STATE": str(self.run / "state"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **{name: os.environ[name] for name in PASSED_ON if os.environ.get(name)},
        }

    # -- preparing the run folder (as root, before supervisord) ---------------------------

    def prepare(self) -> None:
        web = pwd.getpwnam(self.web_user)
        self.run.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run, 0o755)  # postgres and the web's user reach their own folders
        for name in ("instance", "redis", "nginx"):
            folder = self.run / name
            folder.mkdir(exist_ok=True)
            os.chown(folder, web.pw_uid, web.pw_gid)
            os.chmod(folder, 0o700)
        (self.run / "state").mkdir(mode=0o755, exist_ok=True)  # root's: the migration mark
        (self.run / "state" / MIGRATED).unlink(missing_ok=True)
        self._init_postgres()
        self._write_nginx()

    def _init_postgres(self) -> None:
        data = self.run / "pg"
        if (data / "PG_VERSION").exists():
            return
        postgres = pwd.getpwnam("postgres")
        data.mkdir(mode=0o700, exist_ok=True)
        os.chown(data, postgres.pw_uid, postgres.pw_gid)
        say(f"creating a PostgreSQL cluster in {data}")
        subprocess.run(
            [*as_user("postgres"), str(PG_BIN / "initdb"), "-D", str(data), "-U", "loopback"]
            + ["-A", "trust", "--no-sync", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/",
        )

    def secret(self) -> str:
        path = self.run / "secret_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip()

    def _write_nginx(self) -> None:
        template = (ROOT / "deploy" / "nginx.conf").read_text()
        upstreams = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
            for port in self.web_ports
        )
        values = {
            "@WEB_USER@": self.web_user,
            "@RUN@": str(self.run),
            "@HOST@": self.args.host,
            "@PORT@": str(self.args.port),
            "@UPSTREAMS@": upstreams,
        }
        for key, value in values.items():
            template = template.replace(key, value)
        (self.run / "nginx.conf").write_text(template)

    # -- supervisord's configuration ------------------------------------------------------

    def supervisord_conf(self, secret: str) -> str:
        env = ",".join(f'{k}="{v}"' for k, v in self.environment(secret).items())
        python, flask = str(BIN / "python"), str(BIN / "flask")
        wait = [python, "-m", "app.scaled", "wait", "--"]
        pg, run = str(self.args.pg_port), self.run
        postgres = [str(PG_BIN / "postgres"), "-D", str(run / "pg"), "-p", pg]
        postgres += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={run}/pg"]
        redis = ["redis-server", "--port", str(self.args.redis_port), "--bind", "127.0.0.1"]
        redis += ["--save", "", "--appendonly", "no", "--dir", str(run / "redis")]
        programs = {
            "postgres": [*as_user("postgres"), *postgres],
            "redis": [*as_user(self.web_user), *redis],
            "nginx": ["nginx", "-c", str(self.run / "nginx.conf"), "-g", "daemon off;"],
        }
        for number, port in enumerate(self.web_ports, 1):
            gunicorn = [str(BIN / "gunicorn"), "--worker-class", "gevent"]
            gunicorn += ["--worker-connections", "4000", "--workers", "1"]
            # Longer than nginx keeps idle upstream connections (60 s): gunicorn never
            # closes one under a request nginx is sending (a POST is not retried: 502).
            gunicorn += ["--keep-alive", "75"]
            gunicorn += ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"]
            programs[f"web-{number}"] = [*wait, *as_user(self.web_user), *gunicorn]
        for number in range(1, self.args.workers + 1):
            programs[f"worker-{number}"] = [*wait, flask, "worker"]
        sections = [
            "[supervisord]",
            "nodaemon=true",
            "user=root",
            f"pidfile={self.run / 'supervisord.pid'}",
            f"logfile={self.run / 'supervisord.log'}",
            f"directory={ROOT}",
            f"environment={env}",
            "",
            "[program:migrate]",
            f"command={_quote([python, '-m', 'app.scaled', 'migrate', self.web_user])}",
            "autorestart=unexpected",
            "startsecs=0",
            "startretries=30",
            *_logs(),
        ]
        for name, command in programs.items():
            sections += ["", f"[program:{name}]", f"command={_quote(command)}"]
            sections += ["autorestart=true", "startsecs=2", "startretries=1000"]
            sections += ["stopasgroup=true", "killasgroup=true", "stopwaitsecs=15", *_logs()]
        return "\n".join(sections) + "\n"


def _logs() -> list[str]:
    return [
        "redirect_stderr=true",
        "stdout_logfile=/dev/stdout",
        "stdout_logfile_maxbytes=0",
    ]


def _quote(command: list[str]) -> str:
    """supervisord splits with shlex and expands %(...)s."""
    import shlex

    return " ".join(shlex.quote(part) for part in command).replace("%", "%%")


# -- the subcommands the programs run ---------------------------------------------------


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def wait(command: list[str], timeout: float = 120) -> None:
    """Wait for PostgreSQL, Redis and the migration; then become ``command``."""
    state = Path(os.environ["LOOPBACK_SCALED_STATE"])
    deadline = time.monotonic() + timeout
    while not (
        _reachable("127.0.0.1", _port_of(os.environ["DATABASE_URL"]))
        and _reachable("127.0.0.1", _port_of(os.environ["REDIS_URL"]))
        and (state / MIGRATED).exists()
    ):
        if time.monotonic() > deadline:
            raise SystemExit("[loopback-scaled] database, Redis or migration not ready")
        time.sleep(0.3)
    os.execvp(command[0], command)


def migrate(web_user: str) -> None:
    """Create the database; migrate it and load the bank as the web's user (they parse
    YAML); then mark it done."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    deadline = time.monotonic() + 60
    while not _reachable("127.0.0.1", _port_of(url)):
        if time.monotonic() > deadline:
            raise SystemExit("[loopback-scaled] PostgreSQL did not start")
        time.sleep(0.3)
    time.sleep(0.5)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname='loopback'").fetchone():
            connection.execute("CREATE DATABASE loopback")
    flask = [*as_user(web_user), str(BIN / "flask")]
    subprocess.run([*flask, "db", "upgrade"], check=True, cwd=ROOT)
    subprocess.run([*flask, "bank", "load"], check=True, cwd=ROOT)
    (Path(os.environ["LOOPBACK_SCALED_STATE"]) / MIGRATED).touch()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["wait"]:
        wait(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    if argv[:1] == ["migrate"]:
        migrate(argv[1])
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m app.scaled", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--first-web-port", type=int, default=5101)
    parser.add_argument("--pg-port", type=int, default=5433)
    parser.add_argument("--redis-port", type=int, default=6380)
    parser.add_argument("--run-dir", default=str(ROOT / "scaled"))
    parser.add_argument("--deployment", default="loopback-scaled", help="queue/channel prefix")
    parser.add_argument("--web-user", default=os.environ.get("LOOPBACK_USER", "loopback"))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("[loopback-scaled] run it as root (PostgreSQL, nginx and the sandbox)")
    for tool in ("nginx", "redis-server", str(PG_BIN / "initdb")):
        if not shutil.which(tool):
            raise SystemExit(f"[loopback-scaled] {tool} is missing: `make run-scaled` installs it")
    layout = Layout(args)
    layout.prepare()
    conf = layout.run / "supervisord.conf"
    conf.write_text(layout.supervisord_conf(layout.secret()))
    os.chmod(conf, 0o600)  # it holds the secret key
    say(f"serving http://{args.host}:{args.port} through nginx; Ctrl-C stops everything")
    os.execv(str(BIN / "supervisord"), [str(BIN / "supervisord"), "-n", "-c", str(conf)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
