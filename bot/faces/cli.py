"""The `modbot` command.

Exit codes: 0 all well; 1 unexpected error; 2 wrong usage; 3 invalid configuration or rule
file; 4 another modbot holds the database lock; 5 finished, but some input lines or accounts
failed (each one was reported)."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from bot import __version__
from bot.config.settings import Settings, load_settings
from bot.core.errors import ConfigError, LockHeld, ModbotError
from bot.core.logs import configure
from bot.core.models import Comment
from bot.moderation.policy import decide

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONFIG, EXIT_LOCKED, EXIT_PARTIAL = 0, 1, 2, 3, 4, 5


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj["config"])
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)


def _classifiers(ctx: click.Context, settings: Settings):
    """The configured classifiers, or exit 3 naming the rule file and line that is wrong."""
    from bot.app import build_classifier

    try:
        return build_classifier(settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modbot")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="MODBOT_CONFIG",
    help="Configuration file (default: MODBOT_CONFIG, else the sandbox example).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    show_default=True,
    help="auto: readable on a terminal, JSON lines otherwise.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.pass_context
def cli(ctx: click.Context, config: str | None, log_format: str, log_level: str) -> None:
    """modbot moderates a school's Facebook, Instagram and X accounts: it hides offensive
    comments, tells the audience why, and sends safeguarding concerns to the DSL."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    configure(None if log_format == "auto" else log_format == "json", log_level)


@cli.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration, rule files and notice templates, and print a summary.

    Exits 3 with every problem listed by key path (or file:line for rules)."""
    from bot.app import build_classifier, notice_templates

    settings = _settings(ctx)
    try:
        classifiers = build_classifier(settings)
        templates = notice_templates(settings)
        missing = sorted(
            {r.notice for r in classifiers.rules.rules if r.notice} - set(templates.names())
        )
        if missing:
            raise ConfigError(
                [f"notices.templates_dir: no template for notice {m!r}" for m in missing]
            )
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)
    click.echo(f"Configuration OK: {settings.source}")
    click.echo(
        f"  School: {settings.school.name} ({settings.school.nation}, {settings.school.timezone})"
    )
    click.echo("  Administrators: " + ", ".join(a.name for a in settings.administrators))
    click.echo(
        f"  DSL: {settings.dsl.name}; deputy: {settings.deputy_dsl.name}; SLT: {settings.slt.name}"
    )
    for acct in settings.accounts:
        click.echo(
            f"  Account {acct.key} ({acct.display_name}): {acct.mode} mode, "
            f"every {acct.poll_interval_seconds}s"
        )
    click.echo(
        f"  Rules: {len(classifiers.rules.rules)} rules; notice templates: "
        + ", ".join(templates.names())
    )
    click.echo(f"  Toxicity backend: {classifiers.backend_description}")
    click.echo(f"  Database: {settings.path(settings.storage.database)}")


@cli.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database to use (default: a new temporary one).",
)
@click.pass_context
def demo(ctx: click.Context, db: Path | None) -> None:
    """Run the sandbox scenario end to end and print what modbot did.

    Needs no credentials and no network: the accounts are a local sandbox platform."""
    from bot.app import build_pipeline
    from bot.faces.demo import SimulatedClock, acknowledgement_summary, simulate_week, summary

    settings = _settings(ctx)
    sandbox = [a for a in settings.accounts if a.platform == "sandbox"]
    if not sandbox:
        click.echo("The demo needs a sandbox account in the configuration.", err=True)
        ctx.exit(EXIT_CONFIG)
    settings = settings.model_copy(update={"accounts": sandbox})
    workdir = None if db else Path(tempfile.mkdtemp(prefix="modbot-demo-"))
    database = db or workdir / "modbot.db"
    outbox = database.parent / "outbox"
    clock = SimulatedClock(datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    try:
        pipeline, classifiers = build_pipeline(settings, database, clock=clock, outbox=outbox)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)
    for connector in pipeline.connectors.values():
        connector.clock = clock
    click.echo(
        "Moderating the sandbox scenario, 16 to 24 November 2026, on a simulated clock...", err=True
    )
    counts = simulate_week(pipeline, clock, end=datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    exported = []
    first = pipeline.store.rows("select id from escalations where urgent = 1 order by id limit 1")
    if first:
        from bot.safeguarding.escalations import change_status, export

        grooming = pipeline.store.rows(
            "select id from escalations where categories like '%grooming%' order by id limit 1"
        )
        if grooming:
            change_status(
                pipeline.store,
                grooming[0]["id"],
                "referred",
                settings.dsl.name,
                reference="CEOP: demo-0001",
            )
        exported = export(
            pipeline.store,
            first[0]["id"],
            database.parent / "evidence",
            settings.path(settings.notices.templates_dir),
        )
    problems = [p for c in pipeline.connectors.values() for p in c.sandbox.problems]
    click.echo(
        summary(
            settings,
            pipeline,
            classifiers.backend_description,
            len(classifiers.rules.rules),
            problems,
        )
    )
    click.echo(acknowledgement_summary(settings, pipeline, counts, outbox, exported))
    bad = pipeline.store.rows("select count(*) n from accounts where health != 'ok'")[0]["n"]
    if bad:
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every account once, then exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Moderate the configured accounts: poll, classify, decide, act, record.

    Without --once it runs until SIGTERM or Ctrl-C, which finish the batch in hand first."""
    from bot.app import build_pipeline
    from bot.service import process_lock, run_forever

    settings = _settings(ctx)
    database = settings.path(settings.storage.database)
    try:
        with process_lock(database):
            pipeline, classifiers = build_pipeline(settings, database)
            click.echo(f"Toxicity backend: {classifiers.backend_description}", err=True)
            if not once:
                run_forever(pipeline)
                return
            reports = pipeline.run_once()
    except LockHeld as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_LOCKED)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)
    for r in reports:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.decisions.items())) or "nothing new"
        click.echo(f"{r.key}: {r.health}; fetched {r.fetched}, processed {r.processed} ({counts})")
        for e in r.errors:
            click.echo(f"  problem: {e}", err=True)
    if any(r.health != "ok" or r.errors for r in reports):
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8", errors="surrogateescape"),
    default="-",
    show_default=True,
    help='JSON lines: {"id": ..., "text": ...}.',
)
@click.pass_context
def check(ctx: click.Context, input_file) -> None:
    """Classify comments offline: one JSON line out per line in, in order.

    Output: {"id", "decision", "categories", "scores", "reasons"}; decision is allow, respond,
    hide or escalate. A line that is not valid JSON gets {"line", "error"} and exit code 5."""

    settings = _settings(ctx)
    classifiers = _classifiers(ctx, settings)
    click.echo(f"modbot check: toxicity backend is {classifiers.backend_description}", err=True)
    failed = 0
    batch: list[tuple[int, object, str | None, str]] = []

    def flush() -> None:
        texts = [t for (_n, _id, err, t) in batch if err is None]
        verdicts = iter(classifiers.combined.classify(texts) if texts else [])
        for number, ident, err, text in batch:
            if err is not None:
                click.echo(json.dumps({"id": ident, "line": number, "error": err}))
                continue
            comment = Comment("check", "check", "", str(ident), text, datetime.now(UTC))
            verdict = next(verdicts)
            decision = decide(comment, verdict, settings.policy)
            click.echo(
                json.dumps(
                    {
                        "id": ident,
                        "decision": decision.action.value,
                        "categories": [c.value for c in decision.categories],
                        "scores": {k: round(v, 4) for k, v in verdict.scores.items()},
                        "reasons": list(decision.reasons),
                    },
                    ensure_ascii=False,
                )
            )
        batch.clear()

    for number, line in enumerate(input_file, 1):
        ident, err, text = None, None, ""
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('expected an object with a string "text"')
            ident, text = record.get("id", number), record["text"]
        except ValueError as exc:
            err = f"line {number}: not a valid input line ({exc})"
            click.echo(f"modbot check: {err}", err=True)
            failed += 1
        batch.append((number, ident, err, text))
        if len(batch) >= settings.classifiers.batch_size:
            flush()
    flush()
    if failed:
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=int, default=0, help="Use only the first N examples (0: all).")
@click.pass_context
def evaluate(ctx: click.Context, data: Path, limit: int) -> None:
    """Measure modbot's decisions against labelled DATA and recommend a threshold.

    DATA is JSON lines with "text" and "label" (allow, respond, hide or escalate; optionally
    "category"), or the Davidson 2017 CSV (labeled_data.csv)."""
    from bot.moderation.evaluate import read_examples, report, run

    settings = _settings(ctx)
    classifiers = _classifiers(ctx, settings)
    examples, problems = read_examples(data)
    for problem in problems:
        click.echo(problem, err=True)
    if limit:
        examples = examples[:limit]
    click.echo(f"Toxicity backend: {classifiers.backend_description}")

    def progress(done: int, total: int) -> None:
        click.echo(f"\r  classified {done}/{total}", err=True, nl=done == total)

    result = run(examples, classifiers.combined, settings.policy, progress=progress)
    click.echo(report(result, settings.policy))
    if problems:
        ctx.exit(EXIT_PARTIAL)


@cli.group()
def models() -> None:
    """Fetch and check the Detoxify model weights."""


@models.command("fetch")
@click.argument("model_type", required=False)
@click.pass_context
def models_fetch(ctx: click.Context, model_type: str | None) -> None:
    """Download MODEL_TYPE (default: classifiers.detoxify_model) into classifiers.models_dir.

    The checkpoint's SHA-256 is checked, and from then on loading is fully offline."""
    from classifiers.model_store import MODELS, ModelError, fetch

    settings = _settings(ctx)
    model_type = model_type or settings.classifiers.detoxify_model
    if model_type not in MODELS:
        click.echo(f"unknown model {model_type!r}; one of: {', '.join(MODELS)}", err=True)
        ctx.exit(EXIT_USAGE)

    def progress(name: str, done: int, total: int) -> None:
        size = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB" if total else f"{done / 1e6:.0f} MB"
        click.echo(f"\r  {name}: {size}", err=True, nl=False)

    try:
        path = fetch(model_type, settings.path(settings.classifiers.models_dir), progress=progress)
    except ModelError as exc:
        click.echo(f"\nmodbot: {exc}", err=True)
        ctx.exit(EXIT_ERROR)
    click.echo(f"\nDetoxify {model_type} ready at {path} (checked; loads offline)")


@cli.command()
@click.pass_context
def health(ctx: click.Context) -> None:
    """Show each account's polling health and the active toxicity backend.

    Exits 5 when any account is failing or its token has expired."""
    from bot.store import Store

    settings = _settings(ctx)
    classifiers = _classifiers(ctx, settings)
    click.echo(f"Toxicity backend: {classifiers.backend_description}")
    database = settings.path(settings.storage.database)
    rows = (
        {r["key"]: r for r in Store(database).rows("select * from accounts")}
        if database.exists()
        else {}
    )
    bad = False
    for acct in settings.accounts:
        row = rows.get(acct.key)
        if row is None:
            click.echo(f"  {acct.key}: never polled")
            continue
        bad |= row["health"] != "ok"
        click.echo(
            f"  {acct.key}: {row['health']}; last poll {row['last_poll_at']}, last success "
            f"{row['last_ok_at']}" + (f"; error: {row['last_error']}" if row["last_error"] else "")
        )
    if bad:
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.argument("received")
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern_ireland"]),
    help="Bank holidays of this nation instead of the configuration's.",
)
@click.option("--ignore-closures", is_flag=True, help="Leave out the configured closure days.")
@click.pass_context
def deadline(ctx: click.Context, received: str, nation: str | None, ignore_closures: bool) -> None:
    """When a comment RECEIVED at this time must be acknowledged (the 24-hour rule).

    RECEIVED is ISO 8601 (2026-11-21T09:30); without an offset it is school time. Prints the
    due time as ISO 8601 with its offset, and the rule that applied."""
    settings = _settings(ctx)
    if ignore_closures:
        settings = settings.model_copy(
            update={"calendar": settings.calendar.model_copy(update={"closures": []})}
        )
    try:
        moment = datetime.fromisoformat(received)
    except ValueError:
        click.echo(f"not an ISO 8601 time: {received!r} (e.g. 2026-11-21T09:30)", err=True)
        ctx.exit(EXIT_USAGE)
    calendar = settings.school_calendar(nation)
    result = calendar.deadline(moment)
    click.echo(f"received: {result.received.isoformat()} ({result.received:%A})")
    if moment.tzinfo is None and _ambiguous(moment, calendar.tz):
        click.echo(
            "note: that local time happens twice (the clocks go back); the first, "
            "summer-time reading was used"
        )
    click.echo(f"due: {result.due.isoformat()} ({result.due:%A %-d %B %Y %H:%M %Z})")
    click.echo(f"rule: {result.rule} [{calendar.nation.replace('_', ' ')}]")


def _desk(ctx: click.Context):
    from bot.app import build_desk
    from bot.store import Store

    settings = _settings(ctx)
    database = settings.path(settings.storage.database)
    return build_desk(settings, Store(database), database)


@cli.command()
@click.argument("item", type=int)
@click.option("--by", "by", required=True, help="Who acknowledges (an administrator or the DSL).")
@click.pass_context
def ack(ctx: click.Context, item: int, by: str) -> None:
    """Acknowledge acknowledgement ITEM. Doing it twice is harmless."""
    desk = _desk(ctx)
    if desk.store.db["items"].count_where("id = ?", [item]) == 0:
        click.echo(f"no item {item}", err=True)
        ctx.exit(EXIT_USAGE)
    click.echo(desk.acknowledge(item, by))


@cli.group()
def leave() -> None:
    """Record administrators' leave (a person on leave is never assigned)."""


@leave.command("add")
@click.argument("name")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("end", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.pass_context
def leave_add(ctx: click.Context, name: str, start: datetime, end: datetime) -> None:
    """NAME is on leave from START to END (YYYY-MM-DD, inclusive)."""
    from bot.acknowledgement.duty import add_leave

    desk = _desk(ctx)
    try:
        add_leave(desk.store, desk.settings, name, start.date(), end.date())
    except ValueError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_USAGE)
    click.echo(f"{name} is on leave from {start:%-d %B %Y} to {end:%-d %B %Y}")


@cli.command()
@click.option(
    "--status",
    default="open",
    show_default=True,
    type=click.Choice(["open", "breached", "acknowledged", "all"]),
)
@click.pass_context
def items(ctx: click.Context, status: str) -> None:
    """List acknowledgement items: who has them and when they are due."""
    desk = _desk(ctx)
    where = "" if status == "all" else "where status = ?"
    rows = desk.store.rows(
        f"select * from items {where} order by due_at", [] if status == "all" else [status]
    )
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['kind']:<11} {r['status']:<12} due {r['due_at']}  "
            f"{r['assignee']} (backup {r['backup']})"
        )
    if not rows:
        click.echo(f"no {status} items")


@cli.group()
def escalations() -> None:
    """The DSL's queue: list, show, ack, refer, close, export."""


@escalations.command("list")
@click.pass_context
def escalations_list(ctx: click.Context) -> None:
    """Every escalation, newest first (no comment text)."""
    desk = _desk(ctx)
    for r in desk.store.rows("select * from escalations order by id desc"):
        urgent = "URGENT " if r["urgent"] else ""
        click.echo(
            f"{r['id']:>5}  {r['status']:<12} {urgent}{', '.join(json.loads(r['categories']))}"
            f"  -> {r['route'] or 'route not set'}  ({r['created_at']})"
        )


@escalations.command("show")
@click.argument("escalation", type=int)
@click.pass_context
def escalations_show(ctx: click.Context, escalation: int) -> None:
    """The full evidence record of ESCALATION, including the comment's words."""
    from bot.safeguarding.escalations import evidence

    desk = _desk(ctx)
    desk.store.audit("escalation.viewed", escalation=escalation)
    click.echo(json.dumps(evidence(desk.store, escalation), indent=2, ensure_ascii=False))


def _set_status(ctx, escalation: int, status: str, by: str, **kw) -> None:
    from bot.safeguarding.escalations import change_status

    desk = _desk(ctx)
    row = change_status(desk.store, escalation, status, by, **kw)
    click.echo(f"escalation {escalation}: {row['status']}")


@escalations.command("ack")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.pass_context
def escalations_ack(ctx: click.Context, escalation: int, by: str) -> None:
    """The DSL has seen ESCALATION."""
    _set_status(ctx, escalation, "acknowledged", by)


@escalations.command("refer")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option("--route", required=True, help="Where it was referred (e.g. CEOP, MASH, police).")
@click.option("--reference", required=True, help="Their reference number.")
@click.pass_context
def escalations_refer(
    ctx: click.Context, escalation: int, by: str, route: str, reference: str
) -> None:
    """Record that ESCALATION was referred, with the route and reference."""
    _set_status(ctx, escalation, "referred", by, reference=f"{route}: {reference}")


@escalations.command("close")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option("--outcome", required=True)
@click.pass_context
def escalations_close(ctx: click.Context, escalation: int, by: str, outcome: str) -> None:
    """Close ESCALATION with its outcome (it is never deleted)."""
    _set_status(ctx, escalation, "closed", by, outcome=outcome)


@escalations.command("export")
@click.argument("escalation", type=int)
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
)
@click.pass_context
def escalations_export(ctx: click.Context, escalation: int, folder: Path) -> None:
    """Write ESCALATION's evidence record as JSON and a printable HTML page."""
    from bot.safeguarding.escalations import export

    desk = _desk(ctx)
    for path in export(
        desk.store, escalation, folder, desk.settings.path(desk.settings.notices.templates_dir)
    ):
        click.echo(str(path))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8465, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the one-click acknowledgement links (a small local web server)."""
    from bot.faces.web import serve as run_server

    click.echo(f"serving acknowledgement links on http://{host}:{port}/ack", err=True)
    run_server(_desk(ctx), host, port)


@cli.group()
def accounts() -> None:
    """The configured social media accounts."""


@accounts.command("check")
@click.pass_context
def accounts_check(ctx: click.Context) -> None:
    """Ask each platform who each token belongs to and which permissions are missing.

    Exits 5 if any token is rejected or lacks a permission modbot needs."""
    from connectors.accounts_check import check
    from connectors.registry import build_connector

    settings = _settings(ctx)
    database = settings.path(settings.storage.database)
    bad = False
    for acct in settings.accounts:
        try:
            connector = build_connector(settings, acct, database)
        except ModbotError as exc:
            click.echo(f"{acct.key}: cannot start: {exc}")
            bad = True
            continue
        report = check(connector)
        bad |= not report.ok
        click.echo(f"{acct.key} ({acct.display_name}): token of {report.owner or 'unknown'}")
        if report.problem:
            click.echo(f"  problem: {report.problem}")
        if report.missing:
            click.echo("  missing permissions: " + ", ".join(sorted(report.missing)))
    if bad:
        ctx.exit(EXIT_PARTIAL)


def _ambiguous(moment: datetime, tz) -> bool:
    first = moment.replace(tzinfo=tz, fold=0).utcoffset()
    return first != moment.replace(tzinfo=tz, fold=1).utcoffset()


def main() -> None:
    try:
        cli.main(prog_name="modbot", standalone_mode=True)
    except ModbotError as exc:
        click.echo(f"modbot: {exc}", err=True)
        sys.exit(EXIT_ERROR)
