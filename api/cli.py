"""The `vermilion` command: migrate and seed the database, serve the app, export the GraphQL schema."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer

from api.db import apply_migrations, empty_all_tables, tortoise_config
from core.settings import Settings

T = TypeVar("T")

SCHEMA_FILE = Path("schema.graphql")
# Any fixed 64-bit number: every `vermilion migrate` on one PostgreSQL server takes this lock, so
# machines that start together apply each migration once instead of racing on CREATE TABLE.
MIGRATION_LOCK_KEY = 0x7665726D696C
# `vermilion seed` draws pictures for worlds of up to this many users unless told: a 60-person world has
# ~650 pictures (seconds), the benchmark's 10,000-person one would have ~100,000 (an hour or more).
PICTURES_MAX_USERS = 200

app = typer.Typer(
    name="vermilion",
    help="Vermilion: the GraphQL backend of a bilingual social-commerce app.",
    no_args_is_help=True,
    add_completion=False,
    # Plain tracebacks for real bugs; rich's "show locals" would print database passwords.
    pretty_exceptions_enable=False,
)


class CliError(Exception):
    """An expected failure, reported as a one-line message and exit code 1."""


def main() -> None:
    """Entry point of the `vermilion` console script."""
    app()


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _warn(message: str) -> None:
    typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning expected failures into one-line errors."""
    try:
        return asyncio.run(coro)
    except CliError as exc:
        _fail(str(exc))


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in exc.errors())
        _fail(f"invalid settings: {reasons}")


def development_schema_sdl() -> str:
    """The SDL of the schema as development builds it, with a trailing newline."""
    from schema import build_schema

    # Fixed development settings: the exported file must not depend on a developer's .env.
    settings = Settings(_env_file=None, VERMILION_ENV="development")  # type: ignore[call-arg]
    return build_schema(settings).as_str().rstrip("\n") + "\n"


# --- database helpers -----------------------------------------------------------------------------


def display_url(url: str) -> str:
    """The URL with its password masked, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _credentials(url: str) -> tuple[str, dict[str, Any]]:
    from tortoise.backends.base.config_generator import expand_db_url

    info = expand_db_url(url)
    return info["engine"], info["credentials"]


def is_postgres(url: str) -> bool:
    engine, _ = _credentials(url)
    return engine.endswith(("asyncpg", "psycopg"))


async def _pg_connect(credentials: dict[str, Any], database: str | None = None) -> Any:
    import asyncpg

    return await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=database or credentials["database"],
        ssl=credentials.get("ssl"),
        timeout=10,
    )


async def ensure_database(url: str) -> str | None:
    """Make sure the database can be opened: create SQLite's directory or a missing PostgreSQL
    database. Says what it created, if anything."""
    engine, credentials = _credentials(url)
    if engine.endswith("sqlite"):
        path = credentials["file_path"]
        parent = Path(path).parent
        if path == ":memory:" or parent.exists():
            return None
        parent.mkdir(parents=True, exist_ok=True)
        return f"Created directory {parent}"
    if not is_postgres(url):
        return None
    import asyncpg

    try:
        conn = await _pg_connect(credentials)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return None
    name = credentials["database"]
    conn = await _pg_connect(credentials, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        return None  # another process created it in the meantime
    finally:
        await conn.close()
    return f"Created database {name}"


@asynccontextmanager
async def connected(url: str, *, create: bool = True) -> AsyncIterator[None]:
    """Tortoise initialised on `url` (created first if `create`), connections closed on exit."""
    from tortoise import Tortoise, connections

    try:
        created = await ensure_database(url) if create else None
        if created:
            typer.echo(created)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        # Tortoise connects lazily; ask now so that an unreachable server is reported as such.
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:
        await Tortoise.close_connections()
        raise CliError(f"cannot connect to {display_url(url)}: {_reason(exc)}") from exc
    try:
        yield
    finally:
        await Tortoise.close_connections()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@asynccontextmanager
async def _migration_lock(url: str) -> AsyncIterator[None]:
    if not is_postgres(url):
        yield  # SQLite serialises writers itself
        return
    _, credentials = _credentials(url)
    conn = await _pg_connect(credentials)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        await conn.close()  # closing the session releases the lock


async def migrate_connected(url: str, echo: Callable[[str], object] = typer.echo) -> list[str]:
    """Apply pending migrations on the initialised database; the names of those applied."""

    applied: list[str] = []
    current: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_start":
            current[:] = [f"{app_label}.{name}"]
        elif event == "apply_done":
            applied.append(f"{app_label}.{name}")
            echo(f"Applied {app_label}.{name}")

    async with _migration_lock(url):
        try:
            await apply_migrations(progress=progress)
        except Exception as exc:
            where = f"migration {current[0]}" if current else "migrating"
            raise CliError(f"{where} failed: {_reason(exc)}") from exc
    return applied


async def pending_migrations() -> list[str]:
    """Migrations on disk that the initialised database has not applied."""
    from tortoise import connections
    from tortoise.migrations.executor import MigrationExecutor

    apps_config = tortoise_config("sqlite://:memory:")["apps"]
    steps = await MigrationExecutor(connections.get("default"), apps_config).plan()
    return [f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward]


# --- commands -------------------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Apply the database migrations (creates the database if needed; a no-op when current)."""
    url = _settings().database_url

    async def run() -> list[str]:
        async with connected(url):
            return await migrate_connected(url)

    applied = _run(run())
    if applied:
        typer.echo(f"Applied {len(applied)} migration(s); {display_url(url)} is up to date.")
    else:
        typer.echo(f"No migrations to apply; {display_url(url)} is up to date.")


feed_app = typer.Typer(help="The discovery feed's precomputed data.", no_args_is_help=True)
app.add_typer(feed_app, name="feed")


@feed_app.command("rebuild")
def feed_rebuild(
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Recompute co-engagement neighbours from recent likes, collects and comments (run it hourly or
    nightly; the feed uses the last completed rebuild)."""
    from feed.neighbours import rebuild_neighbours

    url = _settings().database_url

    async def run() -> str:
        async with connected(url):
            report = await rebuild_neighbours(progress=progress)
        return (
            f"{report.engagements} engagements by {report.people} people: {report.pairs} neighbour pairs "
            f"for {report.notes} notes in {report.seconds:.1f} s."
        )

    typer.echo(_run(run()))


search_app = typer.Typer(help="The full-text search index.", no_args_is_help=True)
app.add_typer(search_app, name="search")


@search_app.command("reindex")
def search_reindex(
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Rewrite every search document from the tables (after a bulk import, or when the text pipeline
    changed); searches keep working meanwhile."""
    from search import lexicon
    from search.documents import rebuild_index
    from search.text import segmenter

    settings = _settings()
    segmenter.configure(settings.cache_dir)
    lexicon.configure(settings.cache_dir)

    async def run() -> str:
        async with connected(settings.database_url):
            counts = await rebuild_index(progress=progress)
        return "Indexed " + ", ".join(f"{n} {kind}s" for kind, n in counts.items()) + "."

    typer.echo(_run(run()))


@search_app.command("refresh-terms")
def search_refresh_terms() -> None:
    """Count again how many documents hold each word (search weighs words and corrects typos by it; the
    server does it every few hours by itself)."""
    from search.terms import refresh_terms

    settings = _settings()

    async def run() -> str:
        async with connected(settings.database_url):
            return f"Vocabulary: {await refresh_terms()} words."

    typer.echo(_run(run()))


topics_app = typer.Typer(
    help="Topic families: names that mean one thing (健身, fitness, gym), for search and the feed.",
    no_args_is_help=True,
)
app.add_typer(topics_app, name="topics")


@topics_app.command("families")
def topics_families() -> None:
    """List every family: its key, then its other names."""
    from search.families import load_families

    settings = _settings()

    async def run() -> list[str]:
        async with connected(settings.database_url):
            found = await load_families()
        return [" | ".join(names) for _, names in sorted(found.members.items())]

    for line in _run(run()):
        typer.echo(line)


@topics_app.command("alias")
def topics_alias(
    name: Annotated[str, typer.Argument(help="The name to add, e.g. 'gym'.")],
    family: Annotated[
        str, typer.Option("--family", help="A name of the family to join (its key or any member): 健身.")
    ],
) -> None:
    """Put NAME in a family (moving it from another); a family that does not exist yet is created. Every
    server reads the change within a minute."""
    from search.families import AliasError, set_alias

    settings = _settings()

    async def run() -> str:
        async with connected(settings.database_url):
            joined, key = await set_alias(name, family)
        return f"{joined!r} is in the family {key!r}."

    try:
        typer.echo(_run(run()))
    except AliasError as exc:
        _fail(str(exc))


@topics_app.command("unalias")
def topics_unalias(name: Annotated[str, typer.Argument(help="The name to take out of its family.")]) -> None:
    """Take NAME out of its family (exits 0 if it was in none, saying so)."""
    from search.families import AliasError, remove_alias

    settings = _settings()

    async def run() -> str:
        async with connected(settings.database_url):
            removed = await remove_alias(name)
        return f"{name!r} left its family." if removed else f"{name!r} is in no family; nothing changed."

    try:
        typer.echo(_run(run()))
    except AliasError as exc:
        _fail(str(exc))


moderation_app = typer.Typer(help="Moderation: rules that fill the queue.", no_args_is_help=True)
app.add_typer(moderation_app, name="moderation")


@moderation_app.command("scan-reviews")
def moderation_scan_reviews() -> None:
    """Run the fake-review rule over every existing review (new reviews are checked as they are posted):
    a review by an account created after the product, with no purchase of it, goes to the moderation
    queue. Safe to run again: a review already flagged is not flagged twice."""
    from safety.signals import scan_reviews

    url = _settings().database_url

    async def run() -> str:
        async with connected(url, create=False):
            report = await scan_reviews()
        return f"{report.reviews} review(s) checked; {report.flagged} newly flagged as possible fake reviews."

    typer.echo(_run(run()))


users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("purge-deleted")
def users_purge_deleted() -> None:
    """Remove the accounts whose deletion (viewerDelete) is past its 30-day grace period (the server also
    does this every hour). Safe to run again, and it finishes a purge that stopped halfway."""
    from media.service import storage_from_settings
    from safety.deletion import purge_due

    settings = _settings()
    storage = storage_from_settings(settings)  # media files and data exports are deleted with the account

    async def run() -> str:
        purged: list[int] = []
        async with connected(settings.database_url, create=False):
            while batch := await purge_due(storage=storage):
                purged += batch
        return f"{len(purged)} account(s) purged."

    typer.echo(_run(run()))


@users_app.command("grant-role")
def users_grant_role(
    handle: Annotated[str, typer.Argument(help="The person's handle (with or without @).")],
    role: Annotated[str, typer.Argument(help="moderator, admin or user (user takes staff rights away).")],
) -> None:
    """Give a person a role: how the first admin is made (admins then grant roles in the API, `roleGrant`).
    Logged in the moderation log as ROLE_GRANTED, with no moderator."""
    from core.errors import DomainError
    from models import Role
    from safety.roles import grant_role_by_handle

    try:
        new_role = Role(role.strip().upper())
    except ValueError:
        _fail(f"unknown role {role!r}: choose moderator, admin or user")
    url = _settings().database_url

    async def run() -> str:
        async with connected(url, create=False):
            try:
                user, previous = await grant_role_by_handle(handle, new_role)
            except DomainError as exc:
                raise CliError(exc.message) from exc
        if previous is new_role:
            return f"@{user.handle} is already {new_role.value.lower()}; nothing changed."
        return f"@{user.handle} is now {new_role.value.lower()} (was {previous.value.lower()})."

    typer.echo(_run(run()))


@app.command("sweep-reservations")
def sweep_reservations() -> None:
    """Release the stock of unpaid orders whose reservation expired (the server also does this every
    VERMILION_SWEEP_INTERVAL_SECONDS; run this from cron when that is 0)."""
    from commerce.payments import payments_from_settings
    from commerce.reservations import sweep_expired

    settings = _settings()
    payments = payments_from_settings(
        settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base
    )

    async def run() -> str:
        async with connected(settings.database_url):
            report = await sweep_expired(payments)
        return (
            f"{report.expired} expired order(s) cancelled and their stock released; "
            f"{report.paid} found paid; {report.skipped} left for the next sweep."
        )

    typer.echo(_run(run()))


earnings_app = typer.Typer(help="Creators' earnings.", no_args_is_help=True)
app.add_typer(earnings_app, name="earnings")


@earnings_app.command("release")
def earnings_release() -> None:
    """Release the commissions whose return window has closed, from PENDING to AVAILABLE (the server also
    does this every hour). Safe to run again: a line is released once."""
    from commerce.releases import release_due

    url = _settings().database_url

    async def run() -> str:
        async with connected(url, create=False):
            report = await release_due()
        amounts = ", ".join(f"{amount} {currency}" for currency, amount in sorted(report.amounts.items()))
        return (
            f"{report.released} line(s) released ({amounts or 'nothing'}, in minor units); "
            f"{report.frozen} frozen (their creator is suspended or leaving); {report.waiting} still waiting."
        )

    typer.echo(_run(run()))


payouts_app = typer.Typer(
    help="Creators' payouts: list them, mark them paid, cancel them.", no_args_is_help=True
)
app.add_typer(payouts_app, name="payouts")


@payouts_app.command("list")
def payouts_list(
    status: Annotated[
        str | None, typer.Option(help="Only payouts with this status: REQUESTED, PAID or CANCELLED.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many, oldest first.")] = 100,
) -> None:
    """List creators' payouts, longest waiting first: id, creator, currency, amount, status, when asked."""
    from commerce.money import format_amount
    from commerce.payouts import list_payouts
    from models import PayoutStatus

    try:
        wanted = PayoutStatus(status.strip().upper()) if status else None
    except ValueError:
        _fail(f"unknown status {status!r}: choose REQUESTED, PAID or CANCELLED")
    url = _settings().database_url

    async def run() -> list[str]:
        async with connected(url, create=False):
            rows = await list_payouts(status=wanted, limit=limit)
        table = [("id", "creator", "currency", "amount", "status", "requested at")]
        table += [
            (
                str(r.payout.id),
                f"@{r.handle}",
                r.payout.currency,
                format_amount(r.payout.amount_minor_units, r.payout.currency),
                r.payout.status.value,
                r.payout.requested_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
            for r in rows
        ]
        widths = [max(len(row[n]) for row in table) for n in range(len(table[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table
        ]
        return [*lines, f"{len(rows)} payout(s)."]

    for line in _run(run()):
        typer.echo(line)


def _payout_step(step: Callable[[], Coroutine[Any, Any, Any]], done: str, already: str) -> None:
    """Run one admin step on a payout (a rule returning `Settled`) and say what it did; a payout already
    in the state asked for is reported, exit 0 (so a retried script succeeds and changes nothing)."""
    from commerce.money import format_amount
    from core.errors import DomainError

    url = _settings().database_url

    async def run() -> str:
        async with connected(url, create=False):
            try:
                settled = await step()
            except DomainError as exc:
                raise CliError(exc.message) from exc
        payout = settled.payout
        amount = f"{format_amount(payout.amount_minor_units, payout.currency)} {payout.currency}"
        if not settled.changed:
            return already.format(id=payout.id, amount=amount, reference=payout.reference)
        return done.format(id=payout.id, amount=amount, reference=payout.reference)

    typer.echo(_run(run()))


@payouts_app.command("mark-paid")
def payouts_mark_paid(
    payout_id: Annotated[int, typer.Argument(help="The payout's number (`vermilion payouts list`).")],
    reference: Annotated[str, typer.Option(help="How it was paid, e.g. the bank transfer's reference.")],
) -> None:
    """Record that a REQUESTED payout was paid (outside Vermilion): it becomes PAID and its amount moves
    from IN_PAYOUT to PAID_OUT, once. Run again, it says the payout is already paid and exits 0; a
    cancelled payout (or one whose Stripe transfer is under way) is refused with exit 1."""
    from commerce.payouts import mark_paid

    _payout_step(
        lambda: mark_paid(payout_id=payout_id, reference=reference),
        "Payout {id} of {amount} is now PAID (reference: {reference}).",
        "Payout {id} of {amount} was already PAID (reference: {reference}); nothing changed.",
    )


@payouts_app.command("cancel")
def payouts_cancel(
    payout_id: Annotated[int, typer.Argument(help="The payout's number (`vermilion payouts list`).")],
) -> None:
    """Cancel a REQUESTED payout: its amount goes back to the creator's AVAILABLE balance, and they may ask
    again. Already cancelled: says so, exit 0; a PAID payout is refused with exit 1."""
    from commerce.payouts import cancel_payout

    _payout_step(
        lambda: cancel_payout(payout_id=payout_id),
        "Payout {id} of {amount} is CANCELLED: the amount is AVAILABLE to the creator again.",
        "Payout {id} of {amount} was already CANCELLED; nothing changed.",
    )


@payouts_app.command("transfer")
def payouts_transfer(
    payout_id: Annotated[int, typer.Argument(help="The payout's number (`vermilion payouts list`).")],
) -> None:
    """Pay a REQUESTED payout as a Stripe Connect transfer to the creator's connected account (needs
    VERMILION_CONNECT_PAYOUTS=true and STRIPE_API_KEY). Safe to run again: the transfer's idempotency key is
    the payout's, and a paid payout is reported, exit 0. Not testable against localstripe (no Connect)."""
    from commerce.payments import StripePayments
    from commerce.payouts import transfer_payout

    settings = _settings()
    transfers = (
        StripePayments(settings.stripe_api_key, api_base=settings.stripe_api_base)
        if settings.connect_payouts and settings.stripe_api_key
        else None
    )
    _payout_step(
        lambda: transfer_payout(payout_id=payout_id, transfers=transfers),
        "Payout {id} of {amount} is now PAID: Stripe transfer {reference}.",
        "Payout {id} of {amount} was already PAID (reference: {reference}); nothing changed.",
    )


@app.command()
def worker() -> None:
    """Run background jobs (media processing, data exports) from Redis: beside servers started with
    VERMILION_JOBS_IN_PROCESS=false, on machines of its own. Needs VERMILION_REDIS_URL."""
    from core.jobs import Jobs
    from core.pubsub import create_broker
    from media.service import media_from_settings
    from safety.export import export_services

    settings = _settings()
    if settings.redis_url is None:
        _fail("`vermilion worker` takes its jobs from Redis: set VERMILION_REDIS_URL")

    async def run() -> None:
        jobs = Jobs.from_settings(settings.redis_url, in_process=True)
        broker = create_broker(settings.redis_url)  # status changes reach subscribers on every server
        media = media_from_settings(settings, jobs, broker)
        export_services(settings, storage=media.storage, jobs=jobs, broker=broker).register_jobs()
        async with connected(settings.database_url):
            await jobs.start()
            typer.echo("Running jobs from Redis (Ctrl-C to stop).")
            try:
                await asyncio.Event().wait()
            finally:
                await jobs.stop()
                await broker.close()

    with contextlib.suppress(KeyboardInterrupt):
        _run(run())


@app.command("check-counters")
def check_counters() -> None:
    """Exit 1, listing each difference, when a stored counter (likes, followers, replies …) differs from a
    COUNT of its rows; see social/counters.py for what each counter counts."""
    from social.counters import CHECKS, counter_mismatches

    url = _settings().database_url

    async def run() -> list[str]:
        async with connected(url, create=False):
            return await counter_mismatches()

    problems = _run(run())
    if problems:
        for line in problems:
            typer.echo(line)
        _fail(f"{len(problems)} counter difference(s) in {display_url(url)}")
    typer.echo(f"All {len(CHECKS)} counters of {display_url(url)} are exact.")


@app.command()
def makemigrations(
    name: Annotated[str | None, typer.Option(help="Name the new migration file.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the models have unmigrated changes.")
    ] = False,
) -> None:
    """Write a migration for model changes (developers, after editing models/)."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.autodetector import MigrationAutodetector
    from tortoise.migrations.writer import format_migration_name

    # The autodetector compares the models with the migration files; it needs no database.
    config = tortoise_config("sqlite://:memory:")

    async def run() -> list[str]:
        async with TortoiseContext() as ctx:
            await ctx.init(config=config, init_connections=False)
            assert ctx.apps is not None
            writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
        created = []
        for writer in writers:
            if name:
                writer.name = format_migration_name(int(writer.name.split("_", 1)[0]), name)
            if check:
                changes = "; ".join(op.describe() for op in writer.operations)
                created.append(f"{writer.app_label}.{writer.name} ({changes})")
            else:
                created.append(f"{writer.app_label}.{writer.name} -> {writer.write()}")
        return created

    created = _run(run())
    if not created:
        typer.echo("No changes detected.")
    elif check:
        for line in created:
            typer.echo(f"Missing migration: {line}")
        _fail("the models have changes without a migration; run `vermilion makemigrations`")
    else:
        for line in created:
            typer.echo(f"Created {line}")


@app.command()
def seed(
    users: Annotated[int, typer.Option(min=1, help="Number of demo users.")] = 60,
    notes: Annotated[
        int | None, typer.Option(min=0, help="Number of notes (default: scaled to users).")
    ] = None,
    products: Annotated[
        int | None, typer.Option(min=0, help="Number of products (default: scaled to users).")
    ] = None,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same data.")
    ] = 7,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The day the demo world is dated to: its history ends at that day's midnight (UTC). "
            "Default: today; pin it to get the same dates again.",
            show_default=False,
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Empty every table first (no confirmation).")
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing, successfully, when data exists already.")
    ] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
    pictures: Annotated[
        bool | None,
        typer.Option(
            "--pictures/--no-pictures",
            help="Draw pictures (avatars, product shots, note photos) into the media storage "
            f"(VERMILION_MEDIA_ROOT, or S3). Default: on for up to {PICTURES_MAX_USERS} users, off above "
            "(a big world such as the benchmark's would take hours).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fill the database with bilingual demo users, notes, products and interactions."""
    if reset and if_empty:
        _fail("--reset and --if-empty exclude each other", code=2)
    # A later day would date the world after the wall clock: the server's own rows would come before it.
    if as_of is not None and as_of.date() > datetime.now(UTC).date():
        _fail(f"--as-of {as_of:%Y-%m-%d} is after today (UTC)", code=2)
    settings = _settings()
    url = settings.database_url
    draw = pictures if pictures is not None else users <= PICTURES_MAX_USERS

    async def run() -> Any:
        # Imported here: the demo data generator is only needed by this command.
        from demo import seed as demo_seed

        async with connected(url):
            await migrate_connected(url)
            if not await demo_seed.database_is_empty():
                if if_empty:
                    return None
                if not reset:
                    raise CliError(
                        f"{display_url(url)} already has data; use --reset to replace it "
                        "or --if-empty to keep it"
                    )
                await empty_all_tables()
                typer.echo("Emptied all tables.")
            options: dict[str, Any] = {} if as_of is None else {"as_of": as_of.date()}
            if draw:
                from media.service import storage_from_settings

                options |= {"pictures": True, "media_storage": storage_from_settings(settings)}
            return await demo_seed.seed_database(
                users=users,
                notes=notes,
                products=products,
                seed=seed_value,
                progress=not no_progress,
                **options,
            )

    summary = _run(run())
    if summary is None:
        typer.echo("Database already seeded; nothing to do.")
        return
    _print_seed_summary(summary)


def _print_seed_summary(summary: Any) -> None:
    for line in summary.lines():
        typer.echo(line)
    typer.echo("GraphiQL: http://127.0.0.1:8000/graphql (after `vermilion serve`)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (1 on SQLite).")] = 1,
    reload: Annotated[bool, typer.Option("--reload", help="Restart on code changes (development).")] = False,
    migrate_first: Annotated[
        bool, typer.Option("--migrate", help="Apply pending migrations before starting.")
    ] = False,
    timeout_graceful_shutdown: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Seconds a stopping server waits for requests in flight before cancelling them "
            "(default: VERMILION_SHUTDOWN_TIMEOUT_SECONDS).",
        ),
    ] = None,
) -> None:
    """Run the app with uvicorn (settings from the environment)."""
    import uvicorn

    # Local media storage signs upload URLs and serves files at the address clients use: by default this
    # server's own (the workers inherit the environment).
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else (f"[{host}]" if ":" in host else host)
    os.environ.setdefault("VERMILION_PUBLIC_BASE_URL", f"http://{shown}:{port}")
    settings = _settings()
    if settings.is_sqlite and workers > 1:
        _warn("SQLite allows one writer process; starting 1 worker (use PostgreSQL for more)")
        workers = 1
    if reload and workers > 1:
        _warn("--reload runs a single worker")
        workers = 1
    _run(_preflight(settings, migrate_first))
    if settings.metrics and workers > 1:
        from api.metrics import prepare_multiprocess_directory

        directory = prepare_multiprocess_directory()
        typer.echo(f"metrics: {workers} workers share {directory}")
    typer.echo(f"{'GraphiQL' if settings.graphiql else 'GraphQL'}: http://{host}:{port}/graphql")
    uvicorn.run(
        "api.app:app",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        # "auto" picks uvloop and httptools when installed (uvicorn[standard]), else asyncio and h11.
        loop="auto",
        http="auto",
        ws="auto",
        log_level=settings.log_level.lower(),
        # SIGTERM ends the worker in bounded time: requests still running then are cancelled (their
        # transactions roll back), and the app's own clean-up is bounded step by step (api/app.py).
        timeout_graceful_shutdown=(
            timeout_graceful_shutdown
            if timeout_graceful_shutdown is not None
            else max(1, round(settings.shutdown_timeout_seconds))
        ),
    )


async def _preflight(settings: Settings, migrate_first: bool) -> None:
    """Migrate if asked, else warn about unapplied migrations.

    An unreachable database is only a warning unless migrating: the server starts anyway and
    /healthz answers 503 until the database is back, as a load balancer expects.
    """
    url = settings.database_url
    try:
        # SQLite's directory is created so that a fresh checkout can start at all.
        async with connected(url, create=migrate_first or settings.is_sqlite):
            if migrate_first:
                await migrate_connected(url)
                return
            pending = await pending_migrations()
    except CliError as exc:
        if migrate_first:
            raise
        _warn(str(exc))
        return
    if pending:
        _warn(f"{len(pending)} migration(s) not applied ({', '.join(pending)}); run `vermilion migrate`")


@app.command("export-schema")
def export_schema(
    output: Annotated[str, typer.Option("--output", "-o", help="File to write, or - for stdout.")] = str(
        SCHEMA_FILE
    ),
) -> None:
    """Write the GraphQL schema (SDL) that the code defines."""
    sdl = development_schema_sdl()
    if output == "-":
        typer.echo(sdl, nl=False)
        return
    Path(output).write_text(sdl, encoding="utf-8")
    typer.echo(f"Wrote {output}")


@app.command("check-schema")
def check_schema(
    schema_file: Annotated[Path, typer.Option("--schema-file", help="The committed SDL file.")] = SCHEMA_FILE,
) -> None:
    """Exit 1 with a diff when the committed schema file differs from the code."""
    expected = development_schema_sdl()
    try:
        actual = schema_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{schema_file} does not exist; run `vermilion export-schema`")
    if actual == expected:
        typer.echo(f"{schema_file} is up to date.")
        return
    diff = difflib.unified_diff(
        actual.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=str(schema_file),
        tofile="schema from the code",
    )
    typer.echo("".join(diff), nl=False)
    _fail(f"{schema_file} is out of date; run `vermilion export-schema`")


if __name__ == "__main__":
    main()
