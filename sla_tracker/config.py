"""Settings: one TOML file validated into frozen, typed settings; secrets from the environment.

Lookup order: ``--config PATH``, else ``$SLA_TRACKER_CONFIG``, else ``./sla-tracker.toml``,
else the built-in defaults. Every key, its default and its meaning is documented in
``config.example.toml`` (a test keeps the two in step). This is the only module that reads
the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from sla_tracker.core.calendar import FIRST_YEAR, LAST_YEAR
from sla_tracker.core.instants import parse_instant

if TYPE_CHECKING:
    from collections.abc import Mapping

CONFIG_ENV = "SLA_TRACKER_CONFIG"
NOW_ENV = "SLA_TRACKER_NOW"
DEFAULT_CONFIG_FILE = "sla-tracker.toml"
SECRET_ENV = {
    ("freshdesk", "api_key"): "SLA_TRACKER_FRESHDESK_API_KEY",
    ("smtp", "password"): "SLA_TRACKER_SMTP_PASSWORD",
    ("web", "token"): "SLA_TRACKER_WEB_TOKEN",
    ("web", "password"): "SLA_TRACKER_WEB_PASSWORD",
    ("web", "webhook_secret"): "SLA_TRACKER_WEB_WEBHOOK_SECRET",
}
SECRET_SECTIONS = frozenset(section for section, _ in SECRET_ENV)
SECRET_KEYS = frozenset(key for _, key in SECRET_ENV)

# Freshdesk ticket sources by name (freshdesk-api.md §4); C2 accepts a subset.
SOURCE_IDS = {
    "email": 1,
    "portal": 2,
    "phone": 3,
    "forum": 4,
    "twitter": 5,
    "facebook": 6,
    "chat": 7,
    "mobihelp": 8,
    "feedback_widget": 9,
    "outbound_email": 10,
    "ecommerce": 11,
    "bot": 12,
    "whatsapp": 13,
}


NO_ALERT_CHANNEL = (
    "no alert channel configured: alerts are recorded but never sent; "
    "set smtp.recipients or alerts.webhook_url"
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, key and fix."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _known_zone(name: str) -> str:
    """An IANA zone the service can schedule in, refused now rather than at the first job."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Paris"
        ) from None
    return name


def _database_url(url: str) -> str:
    # Imported here: parsing database URLs needs SQLAlchemy, which commands that never open
    # the database (``--help``, ``calendar …``) should not pay for.
    from sla_tracker.storage.engine import check_database_url

    return check_database_url(url)


DayT = TypeVar("DayT", date, datetime)


def _http_only(url: str) -> str:
    """Only a web address: never a local file or another protocol a request could reach."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    return url


def _within_calendar_years(day: DayT) -> DayT:
    """A day the calendar can tabulate: year 1 or 9999 would only fail at the first sync."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a date within {FIRST_YEAR}–{LAST_YEAR}")
    return day


# Ceilings of the intervals: past them a setting is a typo (a sync every 100,000 minutes).
MINUTES_PER_DAY, MINUTES_PER_WEEK = 24 * 60, 7 * 24 * 60
Hours = Annotated[float, Field(gt=0)]
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
WebUrl = Annotated[str, AfterValidator(_http_only)]
StatusId = Annotated[int, Field(ge=2)]


class CalendarSettings(_Section):
    name: str = "fr-support"
    paths: tuple[Path, ...] = ()


class SlaSettings(_Section):
    accepted_sources: tuple[str, ...] = ("email", "portal", "chat", "feedback_widget")
    enforce_from: Annotated[AwareDatetime, AfterValidator(_within_calendar_years)] | None = None
    severity_change: Literal["retroactive", "from_change"] = "retroactive"

    @field_validator("accepted_sources")
    @classmethod
    def _known_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        for source in sources:
            if source not in SOURCE_IDS:
                raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCE_IDS)}")
        return sources

    @property
    def accepted_source_ids(self) -> frozenset[int]:
        return frozenset(SOURCE_IDS[source] for source in self.accepted_sources)


class ResponseSettings(_Section):
    blocking_hours: Hours = 2.0
    major_hours: Hours = 4.0
    minor_internal_hours: Hours | None = None
    stop_on: tuple[
        Literal["first_public_reply", "first_assignment", "first_status_change"], ...
    ] = ("first_public_reply",)


class RestorationSettings(_Section):
    target_hours: Hours = 72.0
    restored_statuses: tuple[StatusId, ...] = (4, 5)
    reopen: Literal["continuous", "paused"] = "continuous"


class PauseSettings(_Section):
    statuses: tuple[StatusId, ...] = (3,)
    ends_on_customer_reply: bool = True


class AlertSettings(_Section):
    thresholds: tuple[Annotated[int, Field(gt=0, lt=100)], ...] = (50, 80)
    webhook_url: WebUrl | None = None
    digest: bool = True  # several alerts due in one run go out as one message


class IssuerSettings(_Section):
    """Who issues the customer statements: the provider's identity, printed on each."""

    legal_name: str | None = None
    address: tuple[str, ...] = ()  # one line each
    siren: str | None = None  # or a SIRET
    vat_number: str | None = None
    contact: str | None = None  # an e-mail address or telephone for questions


class IndemnitySettings(_Section):
    basis: Literal["calendar", "business"] = "calendar"
    overlap: Literal["union", "sum"] = "union"
    currency: str = "EUR"


class FreshdeskSettings(_Section):
    domain: str | None = None
    base_url: WebUrl | None = None
    api_key: SecretStr | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    calls_per_minute: Annotated[int, Field(gt=0, le=100_000)] = 20
    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    max_retry_after_seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 120.0

    @field_validator("domain")
    @classmethod
    def _bare_domain(cls, domain: str | None) -> str | None:
        if domain and ("." in domain or "/" in domain):
            raise ValueError(
                "give only the subdomain, e.g. 'acme' for https://acme.freshdesk.com "
                "(use freshdesk.base_url for any other address)"
            )
        return domain


class SyncSettings(_Section):
    start_date: Annotated[date, AfterValidator(_within_calendar_years)] | None = None
    overlap_minutes: Annotated[int, Field(ge=0, le=MINUTES_PER_DAY)] = 5
    deleted_spam_minutes: Annotated[int, Field(gt=0, le=MINUTES_PER_WEEK)] = 30
    reference_refresh_hours: Annotated[int, Field(gt=0, le=24 * 30)] = 24
    reconcile_minutes: Annotated[int, Field(gt=0, le=MINUTES_PER_WEEK)] = 60
    reconcile_batch: Annotated[int, Field(gt=0, le=10_000)] = 100
    lock_wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 10.0
    read_conversations: bool = True


class DatabaseSettings(_Section):
    url: Annotated[str, AfterValidator(_database_url)] = "sqlite:///sla-tracker.db"


class SmtpSettings(_Section):
    host: str = "localhost"
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "sla-tracker@localhost"
    recipients: tuple[str, ...] = ()


class ScheduleSettings(_Section):
    timezone: TimeZoneName = "Europe/Paris"
    sync_minutes: Annotated[int, Field(gt=0, le=MINUTES_PER_DAY)] = 5
    weekly_report_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_report_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    misfire_grace_seconds: Annotated[int, Field(gt=0, le=86_400)] = 300
    standby_poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0


LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1", "localhost"})


class WebSettings(_Section):
    """The web board (``sla-tracker web``, or ``run`` when enabled) and its webhook receiver."""

    enabled: bool = False
    address: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, lt=65536)] = 8080
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    refresh_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    webhook_debounce_seconds: Annotated[float, Field(ge=0, le=600)] = 1.0
    ready_sync_age_minutes: Annotated[int, Field(gt=0, le=MINUTES_PER_WEEK)] = 15

    @model_validator(mode="after")
    def _credentials_beyond_loopback(self) -> WebSettings:
        """Refused at load time, not when the first stranger connects."""
        if (self.username is None) != (self.password is None):
            raise ValueError("give both web.username and web.password (basic credentials)")
        if self.address not in LOOPBACK_ADDRESSES and not self.has_credentials:
            raise ValueError(
                f"web.address {self.address!r} is not loopback: set a token "
                "($SLA_TRACKER_WEB_TOKEN) or basic credentials (web.username and "
                '$SLA_TRACKER_WEB_PASSWORD) first, or keep address = "127.0.0.1"'
            )
        return self

    @property
    def has_credentials(self) -> bool:
        return self.token is not None or self.password is not None


class ReportSettings(_Section):
    language: Literal["fr", "en"] = "fr"


class RuleSettings(_Section):
    """One classification rule: conditions (all must hold) and the value it sets."""

    name: str
    value: str | bool
    keywords: tuple[str, ...] = ()
    priority: tuple[int, ...] = ()
    type: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, tuple[str | int | bool, ...]] = Field(default_factory=dict)
    group_id: tuple[int, ...] = ()
    source: tuple[str, ...] = ()


def _rule(name: str, value: str | bool, **conditions: Any) -> RuleSettings:  # noqa: FBT001
    return RuleSettings(name=name, value=value, **conditions)


# SPEC §3: the French and English rule sets shipped by default (and shown in the example).
DEFAULT_SEVERITY_RULES = (
    _rule("not-anomaly-type", "not_anomaly", type=("Question", "Feature Request")),
    _rule("not-anomaly-words", "not_anomaly", keywords=(
        "évolution", "fonctionnalité non disponible", "demande de fonctionnalité",
        "feature request", "how to", "comment faire")),
    _rule("account-severity-blocking", "blocking", custom_fields={"cf_gravite": ("Bloquante",)}),
    _rule("account-severity-major", "major", custom_fields={"cf_gravite": ("Majeure",)}),
    _rule("account-severity-minor", "minor", custom_fields={"cf_gravite": ("Mineure",)}),
    _rule("blocking-fr", "blocking", keywords=(
        "impossible de se connecter", "plus aucun accès", "plus d'accès",
        "application inaccessible", "inaccessible", "bloqué", "bloquée", "bloqués",
        "impossible de créer", "impossible d'enregistrer", "impossible de modifier")),
    _rule("blocking-en", "blocking", keywords=(
        "cannot log in", "can't log in", "down", "no access", "unable to create", "blocked")),
    _rule("major-fr", "major", keywords=(
        "ne fonctionne plus", "en erreur", "erreur 500", "aucun contournement",
        "ne s'enregistre pas", "en échec")),
    _rule("major-en", "major", keywords=("not working", "error 500", "no workaround", "failing")),
    _rule("minor-fr", "minor", keywords=("contournement", "en attendant", "faute", "affichage")),
    _rule("minor-en", "minor", keywords=("workaround", "typo", "cosmetic")),
)  # fmt: skip
DEFAULT_GTR_OBJECT_RULES = (
    _rule("invoice", "invoice", keywords=(
        "facture", "factures", "facturer", "facturation", "invoice", "invoices")),
    _rule("quote", "quote", keywords=("devis", "quote", "quotes")),
    _rule("opportunity", "opportunity", keywords=(
        "opportunité", "opportunités", "opportunity", "opportunities")),
    _rule("action", "action", keywords=("action", "actions", "tâche", "task")),
    _rule("contact", "contact", keywords=("fiche contact", "contact", "contacts")),
    _rule("account", "account", keywords=("fiche compte", "fiche de compte", "compte", "account")),
)  # fmt: skip
DEFAULT_EXTERNAL_LINK_RULES = (
    _rule("external-tools", True, keywords=(  # noqa: FBT003
        "erp", "bi", "power bi", "e-commerce", "ecommerce", "shopify", "prestashop",
        "woocommerce", "sage", "connecteur", "connector")),
)  # fmt: skip
DEFAULT_NON_STANDARD_RULES = (
    _rule("custom-fields", True, keywords=(  # noqa: FBT003
        "champ personnalisé", "champs personnalisés", "custom field", "custom fields")),
)  # fmt: skip
RULE_VALUES: dict[str, tuple[Any, ...]] = {
    "severity": ("blocking", "major", "minor", "not_anomaly"),
    "gtr_object": ("account", "contact", "action", "opportunity", "quote", "invoice", "none"),
    "external_link": (True, False),
    "non_standard_fields": (True, False),
}


class ClassificationSettings(_Section):
    """SPEC §3: ordered rules per decision; the first that matches wins."""

    severity: tuple[RuleSettings, ...] = DEFAULT_SEVERITY_RULES
    gtr_object: tuple[RuleSettings, ...] = DEFAULT_GTR_OBJECT_RULES
    external_link: tuple[RuleSettings, ...] = DEFAULT_EXTERNAL_LINK_RULES
    non_standard_fields: tuple[RuleSettings, ...] = DEFAULT_NON_STANDARD_RULES

    @model_validator(mode="after")
    def _values_and_sources(self) -> ClassificationSettings:
        for dimension, allowed in RULE_VALUES.items():
            names = set()
            for rule in getattr(self, dimension):
                where = f"{dimension} rule {rule.name!r}"
                if rule.name in names:
                    raise ValueError(f"{where}: another {dimension} rule has the same name")
                names.add(rule.name)
                is_flag = isinstance(allowed[0], bool)
                if rule.value not in allowed or isinstance(rule.value, bool) != is_flag:
                    shown = ", ".join(str(item).lower() for item in allowed)
                    raise ValueError(f"{where}: value {rule.value!r} is not one of {shown}")
                for source in rule.source:
                    if source not in SOURCE_IDS:
                        known = ", ".join(SOURCE_IDS)
                        raise ValueError(f"{where}: unknown source {source!r}; use one of {known}")
        return self


class CrosscheckSettings(_Section):
    tolerance_minutes: Annotated[int, Field(ge=0, le=MINUTES_PER_WEEK)] = 15


class Settings(_Section):
    """Everything the tracker can be told, with SPEC.md's defaults."""

    calendar: CalendarSettings = CalendarSettings()
    sla: SlaSettings = SlaSettings()
    response: ResponseSettings = ResponseSettings()
    restoration: RestorationSettings = RestorationSettings()
    pause: PauseSettings = PauseSettings()
    alerts: AlertSettings = AlertSettings()
    indemnity: IndemnitySettings = IndemnitySettings()
    freshdesk: FreshdeskSettings = FreshdeskSettings()
    sync: SyncSettings = SyncSettings()
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    report: ReportSettings = ReportSettings()
    issuer: IssuerSettings = IssuerSettings()
    web: WebSettings = WebSettings()
    classification: ClassificationSettings = ClassificationSettings()
    crosscheck: CrosscheckSettings = CrosscheckSettings()
    source: str = Field(default="built-in defaults", exclude=True)

    @property
    def alert_channels(self) -> list[str]:
        """Where alerts go out; none means they are recorded and never sent."""
        configured = (("e-mail", bool(self.smtp.recipients)), ("webhook", self.alerts.webhook_url))
        return [channel for channel, on in configured if on]


def find_config_file(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """The file to read, by the documented lookup order; None means built-in defaults."""
    if explicit:
        return Path(explicit)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a config file (or the defaults), then overlay secrets from the env.

    Raises:
        ConfigError: unreadable file, TOML syntax, unknown key or bad value, with the fix.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = read_toml(path) if path is not None else {}
    source = str(path) if path is not None else "built-in defaults"
    for (section, key), variable in SECRET_ENV.items():
        secret = _secret_from_env(variable, environ)
        if secret is not None:
            raw.setdefault(section, {})[key] = secret
    try:
        return Settings.model_validate({**raw, "source": source})
    except ValidationError as error:
        raise ConfigError(describe_validation_error(source, error, raw)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax failures into a ConfigError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file (check --config or ${CONFIG_ENV}; "
            "config.example.toml documents every key)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: {not_utf8(error)}") from None


def describe_validation_error(
    source: str, error: ValidationError, raw: Mapping[str, Any] | None = None
) -> str:
    """One line per problem: where, which key, the bad value, and what is expected."""
    lines = []
    for problem in error.errors(include_url=False):
        key = _key_path(problem["loc"], raw)
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key (see config.example.toml for the known keys)"
        elif message.startswith("Input should be "):
            message = "expected " + message.removeprefix("Input should be ")
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        value = problem.get("input")
        if _may_hold_a_secret(problem["loc"], problem["type"]):
            shown = " = (secret)"
        elif isinstance(value, dict):
            shown = ""
        else:
            shown = f" = {redact(value.isoformat() if isinstance(value, date) else repr(value))}"
        lines.append(f"{source}: {key}{shown}: {redact(message)}")
    return "\n".join(lines)


def _may_hold_a_secret(location: tuple[int | str, ...], problem: str) -> bool:
    """A secret, a whole section that holds one, or an unknown key beside one (``apikey``,
    ``passwd``): its value is never echoed."""
    if not location:
        return False
    if location[-1] in SECRET_KEYS or (len(location) == 1 and location[0] in SECRET_SECTIONS):
        return True
    return problem == "extra_forbidden" and location[0] in SECRET_SECTIONS


_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@")
_SECRET_PARAMETER = re.compile(r"(?i)\b(password|passwd|pwd|api_?key|token|secret)=[^&\s'\"]+")


def redact(text: str) -> str:
    """Mask credentials inside URLs (``http://user:pass@host``, ``?password=…``) wherever a
    message, a log line or a stored error is built from one."""
    return _SECRET_PARAMETER.sub(r"\1=***", _URL_USERINFO.sub(r"\1***@", text))


def not_utf8(error: UnicodeDecodeError) -> str:
    """What to say about a file that is not UTF-8 text, without quoting its bytes."""
    return f"not UTF-8 text (byte {error.start + 1} cannot be decoded); save it as UTF-8"


def _key_path(location: tuple[int | str, ...], raw: Any) -> str:
    """``classification.severity[blocking-fr].priority``: list items named when they can be."""
    key, node = "", raw
    for part in location:
        node = _child(node, part)
        if isinstance(part, int):
            name = node.get("name") if isinstance(node, dict) else None
            key += f"[{name if name is not None else part}]"
        else:
            key += f".{part}" if key else part
    return key


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    if isinstance(node, dict):
        return node.get(part)
    return None


def _secret_from_env(variable: str, environ: Mapping[str, str]) -> str | None:
    if environ.get(variable):
        return environ[variable]
    file_variable = variable + "_FILE"
    if environ.get(file_variable):
        secret_path = Path(environ[file_variable])
        try:
            return secret_path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f"${file_variable}: cannot read {secret_path} ({error.strerror}); "
                f"point it at a readable file or set ${variable} instead"
            ) from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"${file_variable}: {secret_path}: {not_utf8(error)}") from None
    return None


def current_instant(environ: Mapping[str, str] | None = None) -> datetime:
    """The run's current instant: ``$SLA_TRACKER_NOW`` if set (for replays), else the clock."""
    environ = os.environ if environ is None else environ
    override = environ.get(NOW_ENV)
    if not override:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_instant(override)
    except ValueError as error:
        raise ConfigError(f"${NOW_ENV}: {error}") from None
