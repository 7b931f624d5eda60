"""Email addresses: trimmed, syntax-checked, the domain lower-cased and in ASCII form.

* The **local part** (before the ``@``) is kept exactly as given: RFC 5321 lets a mail
  server treat ``Anna`` and ``anna`` as different mailboxes, so changing its case could
  point at someone else. It must be a dot-atom (RFC 5322 §3.4.1: letters, digits and
  ``!#$%&'*+-/=?^_`{|}~``, dots not first, last or doubled), with non-ASCII letters
  allowed (RFC 6531), at most 64 characters. Quoted local parts (``"a b"@x.org``) are
  refused: web forms and CRMs practically never see them.
* The **domain** is case-insensitive (RFC 5321 §2.4), so it is lower-cased; an
  internationalised domain is stored in its ASCII form (IDNA A-labels, ``xn--…``), the
  form DNS and SMTP use, so ``anna@Müller.DE`` and ``anna@xn--mller-kva.de`` are one
  address. Labels are encoded one by one with Punycode (RFC 3492) after Unicode NFC and
  lower-casing, rather than with Python's ``idna`` codec: that codec implements IDNA 2003,
  which maps ``ß`` to ``ss`` and so would silently turn ``straße.de`` into the different
  domain ``strasse.de``. A domain has at least two labels of letters, digits and inner
  hyphens (each at most 63 characters), a top-level label that is not all digits, and at
  most 253 characters. Address literals (``anna@[192.0.2.1]``) are refused.
* ``Name <address>`` and a ``mailto:`` prefix, as mail clients and CSV exports write
  them, are reduced to the address.

Normalising twice changes nothing: ``normalise_email(normalise_email(x)) ==
normalise_email(x)``.

>>> normalise_email("  Anna.Okafor@Brightside-Hotels.COM ")
'Anna.Okafor@brightside-hotels.com'
>>> normalise_email("Jürgen Weiß <j.weiss@Bäckerei-Weiß.de>")
'j.weiss@xn--bckerei-wei-56a8c.de'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from sfakit.errors import ValidationError

__all__ = ["EMAIL_EXPECTED", "normalise_email"]

#: What an email field expects, as error messages and data-quality issues say it.
EMAIL_EXPECTED: Final = "an email address like name@example.com"

_NAMED: Final = re.compile(r"[^<>]*<([^<>]*)>", re.DOTALL)
# RFC 5322 atext, plus any non-ASCII character (RFC 6531); no spaces, no controls.
_ATOM: Final = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010FFFF]+")
_LDH: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def _local_part_ok(local: str) -> bool:
    if not local or len(local) > 64:
        return False
    return all(_ATOM.fullmatch(atom) for atom in local.split("."))


def _label_ok(label: str) -> bool:
    """A Unicode label: letters, marks and digits, with inner hyphens only."""
    if not label or label.startswith("-") or label.endswith("-"):
        return False
    for char in label:
        if char == "-":
            continue
        category = unicodedata.category(char)
        if not (category.startswith(("L", "M")) or category == "Nd"):
            return False
    return True


def _ascii_label(label: str) -> str | None:
    label = unicodedata.normalize("NFC", label.lower())
    if label.isascii():
        ascii_label = label
        if _LDH.fullmatch(label) is None:
            return None
    else:
        if not _label_ok(label):
            return None
        ascii_label = "xn--" + label.encode("punycode").decode("ascii")
    return ascii_label if len(ascii_label) <= 63 else None


def _ascii_domain(domain: str) -> str | None:
    labels = domain.split(".")
    if len(labels) < 2:
        return None
    converted = []
    for label in labels:
        ascii_label = _ascii_label(label)
        if ascii_label is None:
            return None
        converted.append(ascii_label)
    if converted[-1].isdigit():
        return None
    result = ".".join(converted)
    return result if len(result) <= 253 else None


def normalise_email(text: str, path: str = "$.email") -> str:
    """``text`` as a normalised email address, or a ValidationError at ``path``.

    >>> normalise_email("anna@@example.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.email: got 'anna@@example.com'; expected an email address...
    """
    if not isinstance(text, str):
        raise ValidationError(path, text, EMAIL_EXPECTED)
    address = text.strip()
    named = _NAMED.fullmatch(address)
    if named is not None:
        address = named.group(1).strip()
    if address[:7].lower() == "mailto:":
        address = address[7:]
    local, at, domain = address.rpartition("@")
    if not at or not _local_part_ok(local):
        raise ValidationError(path, text, EMAIL_EXPECTED)
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        raise ValidationError(path, text, EMAIL_EXPECTED)
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:  # RFC 5321's limit on a forward path, less the angle brackets
        raise ValidationError(path, text, EMAIL_EXPECTED + " (at most 254 characters)")
    return result
