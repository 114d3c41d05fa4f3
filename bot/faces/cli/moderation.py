"""Commands for moderation: config check, run, check, evaluate, models, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.core.errors import ConfigError, LockHeld
from bot.core.models import Comment, valid_text
from bot.faces.cli.root import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_LOCKED,
    EXIT_PARTIAL,
    EXIT_USAGE,
    _classifiers,
    _database,
    _settings,
    _store,
    cli,
)
from bot.moderation.policy import decide


@cli.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration, rule files and notice templates, and print a summary.

    Exits 3 with every problem listed by key path (or file:line for rules and exemplars)."""
    from bot.app import build_classifier, notice_templates
    from bot.notify.email import EmailTemplates, template_problems

    settings = _settings(ctx)
    try:
        classifiers = build_classifier(settings)
        templates = notice_templates(settings)
        missing = sorted(
            {r.notice for r in classifiers.rules.rules if r.notice} - set(templates.names())
        )
        folder = settings.path(settings.notices.templates_dir)
        problems = [f"notices.templates_dir: no template for notice {m!r}" for m in missing]
        problems += [f"{folder}/notices/{p}" for p in templates.problems()]
        problems += [f"{folder}/{p}" for p in template_problems(EmailTemplates(folder))]
        if problems:
            raise ConfigError(problems)
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
    click.echo(f"  Judgement layers: {classifiers.layers}")
    click.echo(f"  Database: {settings.path(settings.storage.database)}")


@cli.command()
@click.option("--once", is_flag=True, help="Poll every account once, then exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Moderate the configured accounts: poll, classify, decide, act, record.

    Without --once it runs until SIGTERM or Ctrl-C, which finish the batch in hand first."""
    from bot.app import build_pipeline
    from bot.service import process_lock, run_forever

    settings = _settings(ctx)
    database = _database(ctx, settings)
    try:
        with process_lock(database):
            pipeline, classifiers = build_pipeline(settings, database)
            click.echo(f"Toxicity backend: {classifiers.backend_description}", err=True)
            if not once:
                run_forever(pipeline)
                return
            reports = pipeline.run_once()
            if pipeline.housekeeping is not None:
                pipeline.housekeeping()
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
    type=click.File("rb"),
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

    for number, raw in enumerate(input_file, 1):  # split on \n only: a raw \r stays inside
        ident, err, text = None, None, ""
        try:
            ident, text = parse_check_line(raw, number)
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
@click.option(
    "--misses",
    "max_misses",
    type=int,
    default=200,
    show_default=True,
    help="List at most N misses with their nearest exemplars (0: counts only, e.g. on a "
    "held-out test set you must not tune on).",
)
@click.pass_context
def evaluate(ctx: click.Context, data: Path, limit: int, max_misses: int) -> None:
    """Measure modbot's decisions against labelled DATA: headline rates, precision and recall
    per category, and each miss with the nearest exemplar in the library.

    DATA is JSON lines with "text" and "label" (allow, respond, hide or escalate; optionally
    "category"), or the Davidson 2017 CSV (labeled_data.csv)."""
    from bot.moderation.evaluate import read_examples, report, run

    settings = _settings(ctx)
    classifiers = _classifiers(ctx, settings)
    if classifiers.semantic is not None:
        classifiers.semantic.classifier.floor = 0.0  # encode every comment: misses get reasons
    examples, problems = read_examples(data)
    for problem in problems:
        click.echo(problem, err=True)
    if limit:
        examples = examples[:limit]
    click.echo(f"Judgement layers: {classifiers.layers}")

    def progress(done: int, total: int) -> None:
        click.echo(f"\r  classified {done}/{total}", err=True, nl=done == total)

    result = run(examples, classifiers.combined, settings.policy, progress=progress)
    click.echo(report(result, settings.policy, max_misses))
    if problems:
        ctx.exit(EXIT_PARTIAL)


@cli.group()
def models() -> None:
    """Fetch and check model files: Detoxify weights, or the sentence encoder."""


@models.command("fetch")
@click.argument("model_type", required=False)
@click.pass_context
def models_fetch(ctx: click.Context, model_type: str | None) -> None:
    """Download MODEL_TYPE (default: classifiers.detoxify_model) into classifiers.models_dir.

    MODEL_TYPE is a Detoxify model or the sentence encoder all-MiniLM-L6-v2 (at its pinned
    revision). Every file's SHA-256 is checked, and from then on loading is fully offline."""
    from classifiers.model_store import ENCODERS, MODELS, ModelError, fetch, fetch_encoder

    settings = _settings(ctx)
    model_type = model_type or settings.classifiers.detoxify_model
    if model_type not in MODELS and model_type not in ENCODERS:
        known = ", ".join([*MODELS, *ENCODERS])
        click.echo(f"unknown model {model_type!r}; one of: {known}", err=True)
        ctx.exit(EXIT_USAGE)

    def progress(name: str, done: int, total: int) -> None:
        size = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB" if total else f"{done / 1e6:.0f} MB"
        click.echo(f"\r  {name}: {size}", err=True, nl=False)

    models_dir = settings.path(settings.classifiers.models_dir)
    try:
        if model_type in ENCODERS:
            path = fetch_encoder(model_type, models_dir, progress=progress)
        else:
            path = fetch(model_type, models_dir, progress=progress)
    except ModelError as exc:
        click.echo(f"\nmodbot: {exc}", err=True)
        ctx.exit(EXIT_ERROR)
    kind = "Sentence encoder" if model_type in ENCODERS else "Detoxify"
    click.echo(f"\n{kind} {model_type} ready at {path} (every file checked; loads offline)")


@cli.command()
@click.pass_context
def health(ctx: click.Context) -> None:
    """Show each account's polling health, which judgement layers are active, the age of the
    last backup and any email stuck in the outbox.

    Exits 5 when any account is failing or its token has expired."""
    from bot.notify.outbox import STUCK_AFTER
    from bot.store.backup import backup_status

    settings = _settings(ctx)
    classifiers = _classifiers(ctx, settings)
    click.echo(f"Judgement layers: {classifiers.layers}")
    click.echo(backup_status(settings)[1])
    store = _store(ctx, settings=settings)[1] if _database(ctx, settings).exists() else None
    rows = store.views.accounts() if store else {}
    stuck = store.outbox.stuck(STUCK_AFTER) if store else []
    if stuck:
        click.echo(f"Emails failing to send: {len(stuck)} (kept in the outbox and retried)")
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


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_check_line(raw: bytes, number: int) -> tuple[object, str]:
    """One input line of `modbot check`: (id, text), or ValueError saying what is wrong.
    Odd input (lone surrogates, NaN, 5,000 nested brackets, bad UTF-8) is an error line,
    never a crash; ids and text come back as valid Unicode."""
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError('expected an object with a string "text"')
    ident = record.get("id", number)
    if isinstance(ident, str):
        ident = valid_text(ident)
    elif not isinstance(ident, int | float) or isinstance(ident, bool):
        ident = valid_text(json.dumps(ident))
    return ident, valid_text(record["text"])


@cli.command()
@click.option("--by", "by", required=True, help="Who runs it (recorded in the audit log).")
@click.pass_context
def purge(ctx: click.Context, by: str) -> None:
    """Drop the words of comments older than storage.purge_text_after_days now (modbot also
    does this by itself). Escalated words are kept: they are safeguarding evidence."""
    from bot.services.retention import purge_old_text

    settings, store = _store(ctx)
    purged = purge_old_text(store, settings, by=by)
    click.echo(
        f"dropped the words of {purged} comment version(s) older than "
        f"{settings.storage.purge_text_after_days} days"
    )
