"""Dashboard page times on the demo database, run on demand, never in `make test`.

Makes the demo's database (`modbot demo --db`, the simulated school week) unless one is given
(`--db PATH`, a database `modbot demo` left), serves it with uvicorn on a free loopback port,
signs in as the demo's administrator, DSL and senior leader, and fetches every page over real
HTTP (keep-alive, as a browser would) a number of times each. Prints a table, then a last line
of JSON with p50/p95/max milliseconds per page and `p95_ms` per page (target: under 200).

    .venv/bin/python benches/bench_web.py [--db PATH] [--rounds 60]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config.settings import load_settings  # noqa: E402
from bot.core.clock import system_clock  # noqa: E402
from bot.faces.web import WebContext, create_app  # noqa: E402
from bot.notify.links import load_secret  # noqa: E402
from bot.services import users  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.test_browser import LiveServer  # noqa: E402

TARGET_MS = 200
PASSWORD = "benchmark horse staple"


def demo_database(folder: Path) -> Path:
    database = folder / "modbot.db"
    print("making the demo database (modbot demo, about half a minute)...", file=sys.stderr)
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "modbot"), "demo", "--db", str(database)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return database


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sign_in(client: httpx.Client, login: str) -> None:
    form = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    done = client.post(
        "/sign-in",
        data={"login": login, "password": PASSWORD, "csrf": csrf, "next": "/today"},
        follow_redirects=True,
    )
    assert done.url.path == "/today", f"sign-in as {login} failed"


def pages(store: Store) -> dict[str, list[str]]:
    def first(sql: str) -> str | None:
        rows = store.rows(sql)
        return str(rows[0]["id"]) if rows else None

    item = first("SELECT id FROM items WHERE kind != 'escalation' ORDER BY id LIMIT 1")
    hidden = first(
        "SELECT d.id FROM decisions d JOIN actions a ON a.decision_id = d.id AND a.kind = "
        "'hide' AND a.status = 'done' WHERE d.action = 'hide' ORDER BY d.id LIMIT 1"
    )
    escalation = first("SELECT id FROM escalations ORDER BY id LIMIT 1")
    common = ["/today", "/accounts", "/leave", "/reports"]
    admin = [*common, "/hidden", f"/items/{item}", f"/hidden/{hidden}"]
    dsl = [*admin, "/escalations", f"/escalations/{escalation}", "/bans"]
    try:
        from bot.reports.month import Month  # noqa: F401  (the monthly report is installed)

        month = store.rows("SELECT substr(min(created_at), 1, 7) AS m FROM decisions")[0]["m"]
        common.append(f"/reports/monthly?month={month}")
    except ImportError:
        pass
    return {"admin": admin, "dsl": dsl, "slt": [*common]}


def name_of(path: str) -> str:
    return re.sub(r"/\d+", "/ID", path.split("?")[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database `modbot demo --db` left")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="modbot-bench-web-"))
    try:
        if args.db:
            shutil.copy2(args.db, work / "modbot.db")
            database = work / "modbot.db"
        else:
            database = demo_database(work)
        settings = load_settings(None)
        store = Store(database)
        hashed = users.hash_password(PASSWORD)
        logins = {}
        for user, _ in users.demo_sign_ins(store, settings):
            store.users.set_password(user.id, hashed, must_change=False)
            logins[user.role] = user.email
        plan = pages(store)
        counts = {
            "comments": store.rows("SELECT count(*) AS n FROM comments")[0]["n"],
            "items": store.rows("SELECT count(*) AS n FROM items")[0]["n"],
            "escalations": store.rows("SELECT count(*) AS n FROM escalations")[0]["n"],
        }
        store.close()
        secret = load_secret(settings.email.link_secret_env, work / "link-secret")
        app = create_app(WebContext(settings, database, secret, system_clock))
        times: dict[str, list[float]] = {}
        sign_ins: list[float] = []
        first: dict[str, float] = {}  # the first fetch of each page (e.g. a report not yet drawn)
        with LiveServer(app) as live:
            for role, paths in plan.items():
                with httpx.Client(base_url=live.url, timeout=30) as client:
                    started = time.perf_counter()
                    sign_in(client, logins[role])
                    sign_ins.append((time.perf_counter() - started) * 1000)
                    for path in paths:  # once each to warm up (templates compiled)
                        started = time.perf_counter()
                        assert client.get(path).status_code == 200, path
                        first.setdefault(name_of(path), (time.perf_counter() - started) * 1000)
                    for _ in range(args.rounds):
                        for path in paths:
                            started = time.perf_counter()
                            page = client.get(path)
                            elapsed = (time.perf_counter() - started) * 1000
                            assert page.status_code == 200, (path, page.status_code)
                            times.setdefault(f"{role} {name_of(path)}", []).append(elapsed)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results = {
        page: {
            "n": len(ms),
            "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(percentile(ms, 0.95), 1),
            "max_ms": round(max(ms), 1),
        }
        for page, ms in times.items()
    }
    print(f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for page, r in results.items():
        print(f"{page:<34}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['max_ms']:>9}")
    worst = max(r["p95_ms"] for r in results.values())
    cold = {page: round(ms, 1) for page, ms in first.items()}
    print("first fetch (cold): " + ", ".join(f"{p} {ms:.0f} ms" for p, ms in cold.items()))
    print(f"sign-in (argon2id, whole round trip): {statistics.median(sign_ins):.0f} ms")
    print(f"worst p95: {worst} ms (target under {TARGET_MS} ms) on {counts}")
    print(
        json.dumps(
            {
                "benchmark": "web pages on the demo database",
                "database": counts,
                "rounds": args.rounds,
                "pages": results,
                "p95_ms": {page: r["p95_ms"] for page, r in results.items()},
                "worst_p95_ms": worst,
                "target_ms": TARGET_MS,
                "under_target": worst < TARGET_MS,
                "sign_in_ms": round(statistics.median(sign_ins), 1),
                "first_fetch_ms": cold,
            }
        )
    )


if __name__ == "__main__":
    main()
