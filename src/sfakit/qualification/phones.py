"""Phone numbers in E.164 form (``+4930123456``), with an extension as ``;ext=12``.

With the optional ``phone`` extra (Google's libphonenumber, as the ``phonenumbers``
package) a number is parsed with the metadata of its country: national formats (``030
1234567`` in Germany), international ones (``+49 30 1234567``, ``0049 …``), the ``(0)``
trunk hint, vanity letters, ``tel:`` URIs and extensions (``ext. 12``, ``x12``, ``#12``,
``;ext=12``) are understood, and the number must be valid for its country (a real number
range, not just plausible digits). ``region`` (an ISO 3166-1 alpha-2 code, usually the
lead's country) says how to read a national number; without it only international
numbers can be read. ``00`` is taken as the international prefix when there is no region,
or when the region dials abroad with another prefix (``011`` in North America) and the
number is not valid read nationally.

Without the package — or with ``parsing=PhoneParsing.DIGITS`` — the fallback keeps
digits only: a number written internationally (``+`` or ``00`` first, the ``(0)`` hint
dropped) becomes ``+`` and its 7 to 15 digits, which is E.164; a national number becomes
its 5 to 15 digits with its trunk prefix, *not* E.164, since without the numbering plan
neither the country code nor the trunk prefix can be known. Letters are refused.
Extensions are kept as ``;ext=`` (the RFC 3966 parameter) in both modes. Either way
normalising twice changes nothing.

>>> normalise_phone("030 1234567", "DE")
'+49301234567'
>>> normalise_phone("+1 (415) 555-0100 ext. 123")
'+14155550100;ext=123'
>>> normalise_phone("030 1234567", "DE", parsing=PhoneParsing.DIGITS)
'0301234567'
"""

from __future__ import annotations

import enum
import re
from types import ModuleType
from typing import Any, Final

from sfakit.errors import ValidationError

__all__ = ["PHONE_EXPECTED", "PhoneParsing", "normalise_phone", "phone_library_available"]

#: What a phone field expects, as error messages and data-quality issues say it.
PHONE_EXPECTED: Final = "a phone number such as +49 30 1234567"


class PhoneParsing(enum.StrEnum):
    """How :func:`normalise_phone` reads a number.

    ``AUTO`` uses ``phonenumbers`` when it is installed and the digits-only fallback
    otherwise; ``LIBRARY`` insists on ``phonenumbers``; ``DIGITS`` always falls back.

    >>> PhoneParsing("digits") is PhoneParsing.DIGITS
    True
    """

    AUTO = "auto"
    LIBRARY = "library"
    DIGITS = "digits"


_EXTENSION: Final = re.compile(
    r"(?:;\s*ext=|\s*(?:extension|ext\.?|x|#)\s*)(\d{1,10})\s*$", re.IGNORECASE
)
_TRUNK_HINT: Final = re.compile(r"\(\s*0\s*\)")
_PUNCTUATION: Final = re.compile(r"[\s\-./()\u00a0]+")


def _library() -> ModuleType | None:
    # Imported when first needed: the package is optional and slow to import. Not
    # cached here, so that setting sys.modules["phonenumbers"] = None disables it.
    try:
        import phonenumbers  # noqa: PLC0415
    except ImportError:
        return None
    return phonenumbers


def phone_library_available() -> bool:
    """True when the optional ``phonenumbers`` package (the ``phone`` extra) is installed.

    >>> isinstance(phone_library_available(), bool)
    True
    """
    return _library() is not None


def _with_extension(number: str, extension: str | None) -> str:
    return f"{number};ext={extension}" if extension else number


def _digits_only(text: str, path: str) -> str:
    raw = text
    text = text.strip()
    if text[:4].lower() == "tel:":
        text = text[4:]
    extension = None
    found = _EXTENSION.search(text)
    if found is not None:
        extension = found.group(1)
        text = text[: found.start()]
    text = text.strip()
    international = text.startswith(("+", "00"))
    if international:
        text = _TRUNK_HINT.sub("", text.removeprefix("+"))
    digits = _PUNCTUATION.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(path, raw, PHONE_EXPECTED + " (digits, spaces and - . / ( ) only)")
    if international:
        digits = digits.removeprefix("00") if text.startswith("00") else digits
        if not 7 <= len(digits) <= 15:
            raise ValidationError(path, raw, PHONE_EXPECTED + " (7 to 15 digits after the +)")
        return _with_extension("+" + digits, extension)
    if not 5 <= len(digits) <= 15:
        raise ValidationError(path, raw, PHONE_EXPECTED + " (5 to 15 digits)")
    return _with_extension(digits, extension)


def _with_library(lib: ModuleType, text: str, region: str | None, path: str) -> str:
    if region is not None and region not in lib.SUPPORTED_REGIONS:
        region = None
    given = text.strip()
    # 00 is the international prefix of most of the world, so "0044 ..." is read as
    # +44 when there is no region, or when the region dials abroad otherwise (011 in
    # North America) and reading it as a national number gives no valid number.
    attempts = [given]
    if given.startswith("00"):
        attempts = ["+" + given[2:]] if region is None else [given, "+" + given[2:]]
    parsed: Any = None
    failure: Any = None
    for attempt in attempts:
        try:
            number = lib.parse(attempt, region)
        except lib.NumberParseException as exc:
            failure = exc
            continue
        if lib.is_valid_number(number):
            e164 = lib.format_number(number, lib.PhoneNumberFormat.E164)
            return _with_extension(e164, number.extension)
        parsed = parsed or number
    if parsed is not None:
        where = lib.region_code_for_number(parsed) or region or "its country"
        raise ValidationError(path, text, f"{PHONE_EXPECTED} (a valid number for {where})")
    if region is None and failure.error_type == lib.NumberParseException.INVALID_COUNTRY_CODE:
        raise ValidationError(
            path,
            text,
            PHONE_EXPECTED + " (an international number starting with +: no country is "
            "known to read a national number in)",
        )
    raise ValidationError(path, text, PHONE_EXPECTED)


def normalise_phone(
    text: str,
    region: str | None = None,
    *,
    parsing: PhoneParsing = PhoneParsing.AUTO,
    path: str = "$.phone",
) -> str:
    """``text`` as an E.164 number (plus ``;ext=`` and the extension, if any), read as a
    national number of ``region`` when it is not international; a ValidationError at
    ``path`` when it is not a phone number.

    >>> normalise_phone("0044 20 7946 0958")
    '+442079460958'
    >>> normalise_phone("12", "DE")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.phone: got '12'; expected a phone number such as ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(path, text, PHONE_EXPECTED)
    if parsing is PhoneParsing.DIGITS:
        return _digits_only(text, path)
    lib = _library()
    if lib is None:
        if parsing is PhoneParsing.LIBRARY:
            raise ValidationError(
                "$.parsing",
                parsing.value,
                "auto or digits: the optional 'phone' extra (phonenumbers) is not installed",
            )
        return _digits_only(text, path)
    return _with_library(lib, text, region, path)
