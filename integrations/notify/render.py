"""Customer messages rendered from the jinja2 templates in `templates/` (package data): for each language a
folder, and in it, for each notification kind, `{kind}.txt` (its subject, its SMS and the lead of the
plain-text e-mail) and `{kind}.html` (the lead of the HTML e-mail, autoescaped), both extending the
language's `layout.txt`/`layout.html`, which greet, list the facts under the names in `labels.jinja`,
and sign. Money and dates are formatted by babel for the customer's locale, in the amount's currency.

An undefined variable is an error (StrictUndefined), never a silent blank; tests render every kind in
every language. A locale with no templates falls back to its language (fr-CA → fr), then to English:
`Rendered.fell_back` says so, for the caller to record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from models.currencies import minor_unit_exponent
from models.money import Money
from models.notify import DEFAULT_LOCALE, Notification

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    language: str
    """The template folder used (`en`, `fr`)."""
    fell_back: bool
    """True when the notification's locale had no templates and English was used instead."""


def languages() -> list[str]:
    """The languages that have templates."""
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and (p / "layout.txt").is_file())


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                                    default=False),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def babel_locale(tag: str) -> Locale:
    """The babel locale for a language tag (`fr-CA` → fr_CA); English when babel does not know it."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def template_language(tag: str) -> tuple[str, bool]:
    """The template folder for a language tag, and whether that is a fallback to English."""
    available = languages()
    full = tag.replace("-", "_")
    for candidate in (full, full.split("_")[0].lower()):
        if candidate in available:
            return candidate, False
    return DEFAULT_LOCALE, True


def format_money(money: Money, locale: Locale) -> str:
    major = Decimal(money.amount).scaleb(-minor_unit_exponent(money.currency))
    return format_currency(major, money.currency, locale=locale)


def render(notification: Notification) -> Rendered:
    """Subject, plain text, HTML and SMS text of `notification` in its customer's language."""
    language, fell_back = template_language(notification.locale)
    locale = babel_locale(notification.locale) if not fell_back else babel_locale(DEFAULT_LOCALE)
    amounts = {key: format_money(money, locale) for key, money in notification.amounts.items()}
    dates = {key: format_datetime(moment.astimezone(UTC), format="long", tzinfo=UTC, locale=locale)
             for key, moment in notification.dates.items()}
    details = sorted({**notification.facts, **amounts, **dates}.items())
    context: dict[str, object] = {"name": notification.to_name, "reference": notification.reference,
                                  "facts": notification.facts, "amounts": amounts, "dates": dates, "details": details}
    env = _environment()
    text_template = env.get_template(f"{language}/{notification.kind.value}.txt")
    subject = _block(text_template, "subject", context).strip()
    sms = " ".join(_block(text_template, "sms", context).split())
    text = text_template.render(context)
    html = env.get_template(f"{language}/{notification.kind.value}.html").render({**context, "subject": subject})
    return Rendered(subject=subject, text=text, html=html, sms=sms, language=language, fell_back=fell_back)


def _block(template: Template, name: str, context: dict[str, object]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))
