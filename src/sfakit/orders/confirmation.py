"""Confirmation numbers a customer can read out on the phone: ``SO-K7M-4QX-93F``.

A number is ``SO-`` and nine symbols of Douglas Crockford's base32 alphabet
(``0-9`` and ``A-Z`` without ``I``, ``L``, ``O`` and ``U``), in groups of three: eight
symbols carry 40 random bits, the ninth is a check symbol.

* **Not guessable.** The bits come from a cryptographic source (the service uses
  :mod:`secrets`), so knowing one number tells nothing about the next, unlike a sequence
  (``SO-000123``) that reveals the order volume and invites trying neighbours. With a
  million orders, a guessed number hits one with probability below one in a million.
* **Unique.** Random numbers can collide (a few in a million orders at 40 bits); the
  order's ``confirmation_number`` is a unique index, and the service draws again when
  the one it drew is taken.
* **Typos are caught.** The check symbol is the Luhn mod N algorithm (the one on credit
  card numbers, generalised to 32 symbols): it catches every single mistyped symbol
  and every swap of two neighbours except ``0`` ↔ ``Z``. Crockford's own check symbol
  (mod 37) would catch that swap too, but needs five extra symbols (``* ~ $ = U``)
  that are hard to read out; Luhn keeps the number inside the 32 readable ones.
* **Forgiving input.** Reading a number back, case, spaces and hyphens are ignored,
  ``O`` is read as ``0`` and ``I``/``L`` as ``1`` (Crockford's rules), and the ``SO``
  prefix may be left out.

>>> number = confirmation_number(0x3A_5F_01_C2_77)
>>> number
'SO-79F-G3G-KQH'
>>> is_valid_confirmation(number), is_valid_confirmation("so 79f g3g kqh")
(True, True)
>>> is_valid_confirmation("SO-79F-G3G-KQ4")  # one symbol mistyped
False
"""

from __future__ import annotations

from typing import Final

from sfakit.errors import ValidationError

__all__ = [
    "CONFIRMATION_BITS",
    "CONFIRMATION_PREFIX",
    "confirmation_number",
    "is_valid_confirmation",
    "normalize_confirmation",
]

#: Random bits in a confirmation number (eight base32 symbols).
CONFIRMATION_BITS: Final = 40
#: What every confirmation number starts with ("sales order").
CONFIRMATION_PREFIX: Final = "SO"

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE: Final = {symbol: index for index, symbol in enumerate(_ALPHABET)}
_READ_AS: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_BASE: Final = len(_ALPHABET)
_DATA_SYMBOLS: Final = CONFIRMATION_BITS // 5
_EXPECTED: Final = (
    f"a confirmation number such as 'SO-79F-G3G-KQH': {CONFIRMATION_PREFIX}- and nine "
    "symbols of 0-9, A-Z without I, L, O, U, the last one a check symbol"
)


def _check_symbol(symbols: str) -> str:
    # Luhn mod N: from the right, every second value is doubled and its base-N digits
    # added; the check value makes the whole sum a multiple of N.
    total = 0
    for position, symbol in enumerate(reversed(symbols)):
        value = _VALUE[symbol]
        if position % 2 == 0:
            value *= 2
            value = value // _BASE + value % _BASE
        total += value
    return _ALPHABET[-total % _BASE]


def confirmation_number(random_bits: int) -> str:
    """The confirmation number for ``random_bits`` (an int from 0 to 2**40 - 1, drawn
    from a cryptographic source by the caller)."""
    if (
        not isinstance(random_bits, int)
        or isinstance(random_bits, bool)
        or not 0 <= random_bits < 1 << CONFIRMATION_BITS
    ):
        raise ValidationError(
            "$.random_bits", random_bits, f"a whole number from 0 to 2**{CONFIRMATION_BITS} - 1"
        )
    data = "".join(
        _ALPHABET[(random_bits >> (5 * shift)) & (_BASE - 1)]
        for shift in reversed(range(_DATA_SYMBOLS))
    )
    body = data + _check_symbol(data)
    return f"{CONFIRMATION_PREFIX}-{body[0:3]}-{body[3:6]}-{body[6:9]}"


def _body(text: object) -> str | None:
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = "".join(text.split()).replace("-", "").upper()
    if len(compact) == _DATA_SYMBOLS + 3 and compact[:2] in {"SO", "S0"}:
        compact = compact[2:]
    body = compact.translate(_READ_AS)
    if len(body) != _DATA_SYMBOLS + 1 or any(symbol not in _VALUE for symbol in body):
        return None
    if _check_symbol(body[:-1]) != body[-1]:
        return None
    return body


def is_valid_confirmation(text: object) -> bool:
    """Whether ``text`` reads as a confirmation number whose check symbol matches."""
    return _body(text) is not None


def normalize_confirmation(text: object) -> str:
    """``text`` in its canonical form (``SO-XXX-XXX-XXX``), for a lookup; a
    :class:`~sfakit.errors.ValidationError` if it is not a valid confirmation number.

    >>> normalize_confirmation("79f-g3g-kqh")
    'SO-79F-G3G-KQH'
    """
    body = _body(text)
    if body is None:
        raise ValidationError("$.confirmation_number", text, _EXPECTED)
    return f"{CONFIRMATION_PREFIX}-{body[0:3]}-{body[3:6]}-{body[6:9]}"
