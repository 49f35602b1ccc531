"""Syntax checks for Norwegian identifiers carried in FHIR ``Identifier`` (``system`` + ``value``).

Pure functions, no I/O. :func:`check_identifier` looks at the ``system``; when it names an identifier we know, the
``value`` is checked and the first problem found is returned with its text in English and Norwegian (bokmål).

Where the rules come from:

* System URIs: HL7 Norway no-basis R4 (``fhir/no-basis`` in the standards directory: ``identifiers.md``, the
  NamingSystems ``no-basis-fodselsnummer``, ``-dnummer``, ``-felleshjelpenummer``, ``-helsepersonellnummer`` and the
  slices of no-basis-Patient, -Practitioner and -Organization). The profiles pin the ``urn:oid:`` form; the
  NamingSystems' alternative ``http://hl7.no/fhir/NamingSystem/...`` URIs are checked too, with the same rules.
* Fødselsnummer and D-nummer: ``DDMMYY`` + three individual digits + two modulus-11 check digits (weights
  3 7 6 1 8 9 4 5 2 and 5 4 3 2 7 6 5 4 3 2); a D-nummer has day + 40. The individual digits and the year give the
  century (Skatteetaten / e-helse "Identifikatorer for personer", series 500–749 for 1854–1899, 000–499 for
  1900–1999, 900–999 for 1940–1999, 500–999 for 2000–2039). Synthetic test numbers have month + 40 or month + 80
  (Skatteetaten Tenor); they are accepted so that test data validates.
* ``2.16.578.1.12.4.1.4.3`` is the *felles hjelpenummer* (FH-nummer) of Norsk Helsenett: 11 digits, first digit 8 or
  9, the rest random, with the same two check digits. Older H-numbers (month + 40, otherwise built like a
  fødselsnummer) are accepted under it as well. The *local* H-nummer of no-basis-Patient uses the literal system
  ``"HNR"`` and is not checked: its syntax is the assigner's business.
* HPR-nummer (Helsepersonellregisteret): 1 to 9 digits, no check digit.
* Organisasjonsnummer (Enhetsregisteret): 9 digits, the last a modulus-11 check digit (weights 3 2 7 6 5 4 3 2).
* HER-id (Adresseregisteret): 1 to 9 digits, handed out in sequence, so no leading zero.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"
FHN_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.3"
HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
ORGNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.101"
HER_SYSTEM = "urn:oid:2.16.578.1.12.4.1.2"

IDENTIFIER_KINDS: dict[str, str] = {
    FNR_SYSTEM: "fnr",
    DNR_SYSTEM: "dnr",
    FHN_SYSTEM: "hnr",
    HPR_SYSTEM: "hpr",
    ORGNR_SYSTEM: "orgnr",
    HER_SYSTEM: "her",
    # The non-preferred uniqueIds of the no-basis NamingSystems (not allowed in the no-basis slices, still the
    # same numbers).
    "http://hl7.no/fhir/NamingSystem/FNR": "fnr",
    "http://hl7.no/fhir/NamingSystem/DNR": "dnr",
    "http://hl7.no/fhir/NamingSystem/FHNR": "hnr",
    "http://hl7.no/fhir/NamingSystem/HPR": "hpr",
}
"""Identifier systems we check, mapped to a short kind name."""


@dataclass(frozen=True)
class IdentifierProblem:
    """What is wrong with an identifier value: the kind of identifier and the detail, in English and bokmål."""

    kind_en: str
    kind_nb: str
    detail_en: str
    detail_nb: str


# (English, Norwegian bokmål) pairs.
_Text = tuple[str, str]

_KIND_TEXT: dict[str, _Text] = {
    "fnr": ("fødselsnummer (national identity number)", "fødselsnummer"),
    "dnr": ("D-nummer (temporary national identity number)", "D-nummer"),
    "hnr": ("felles hjelpenummer (FH-nummer, common auxiliary patient number)", "felles hjelpenummer"),
    "hpr": ("HPR-nummer (Health Personnel Register number)", "HPR-nummer"),
    "orgnr": ("organisasjonsnummer (organisation number in Enhetsregisteret)", "organisasjonsnummer"),
    "her": ("HER-id (communication party in Adresseregisteret)", "HER-id"),
}

_PERSON_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_PERSON_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
_DIGITS = frozenset("0123456789")  # not str.isdigit(), which also accepts e.g. "²" and Arabic-Indic digits
_SYNTHETIC_MONTH_OFFSETS = (0, 40, 80)


def check_identifier(system: str | None, value: str) -> IdentifierProblem | None:
    """Check ``value`` against the rules for ``system``.

    Returns None when the system is not one we check (see :data:`IDENTIFIER_KINDS`) or the value is valid,
    otherwise the first problem found: characters, then length, then the date part, then the check digits.
    """
    kind = IDENTIFIER_KINDS.get(system or "")
    if kind is None:
        return None
    detail = _CHECKS[kind](value)
    if detail is None:
        return None
    kind_en, kind_nb = _KIND_TEXT[kind]
    return IdentifierProblem(kind_en, kind_nb, detail[0], detail[1])


def mod11_check_digit(digits: str, weights: Sequence[int]) -> int | None:
    """The modulus-11 check digit of ``digits`` with ``weights``, or None when no digit fits (remainder 1).

    Remainder 0 gives 0, any other remainder r gives 11 - r.
    """
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def _check_fnr(value: str) -> _Text | None:
    problem = _digits(value, 11, 11)
    if problem:
        return problem
    first = value[0]
    if first in "4567":
        return (
            f"the first digit is {first}: day + 40 marks a D-nummer, which belongs under system {DNR_SYSTEM}",
            f"første siffer er {first}: dag + 40 betyr D-nummer, som skal ha system {DNR_SYSTEM}",
        )
    if first in "89":
        return (
            f"the first digit is {first}, which marks a felles hjelpenummer (system {FHN_SYSTEM}), not a fødselsnummer",
            f"første siffer er {first}, som betyr felles hjelpenummer (system {FHN_SYSTEM}), ikke fødselsnummer",
        )
    return _birth_date(value, 0, _SYNTHETIC_MONTH_OFFSETS) or _person_check_digits(value)


def _check_dnr(value: str) -> _Text | None:
    problem = _digits(value, 11, 11)
    if problem:
        return problem
    first = value[0]
    if first not in "4567":
        hint_en, hint_nb = (
            (
                f"this looks like a fødselsnummer (system {FNR_SYSTEM})",
                f"dette ser ut som et fødselsnummer (system {FNR_SYSTEM})",
            )
            if first in "0123"
            else (
                f"this looks like a felles hjelpenummer (system {FHN_SYSTEM})",
                f"dette ser ut som et felles hjelpenummer (system {FHN_SYSTEM})",
            )
        )
        return (
            f"the first digit is {first}, but a D-nummer has day + 40, so it starts with 4, 5, 6 or 7; {hint_en}",
            f"første siffer er {first}, men et D-nummer har dag + 40 og begynner derfor med 4, 5, 6 eller 7; {hint_nb}",
        )
    return _birth_date(value, 40, _SYNTHETIC_MONTH_OFFSETS) or _person_check_digits(value)


def _check_fhn(value: str) -> _Text | None:
    problem = _digits(value, 11, 11)
    if problem:
        return problem
    if value[0] in "89":  # FH-nummer: the nine digits before the check digits carry no meaning
        return _person_check_digits(value)
    if 41 <= int(value[2:4]) <= 52:  # older H-nummer: a fødselsnummer with month + 40
        return _birth_date(value, 0, (40,)) or _person_check_digits(value)
    return (
        f"the number is neither a felles hjelpenummer (first digit 8 or 9; here {value[0]}) nor an H-nummer "
        f"(month + 40, digits 3–4 between 41 and 52; here {value[2:4]})",
        f"nummeret er verken et felles hjelpenummer (første siffer 8 eller 9; her {value[0]}) eller et H-nummer "
        f"(måned + 40, siffer 3–4 mellom 41 og 52; her {value[2:4]})",
    )


def _check_hpr(value: str) -> _Text | None:
    return _digits(value, 1, 9)


def _check_orgnr(value: str) -> _Text | None:
    problem = _digits(value, 9, 9)
    if problem:
        return problem
    expected = mod11_check_digit(value[:8], _ORGNR_WEIGHTS)
    if expected is None:
        return (
            "no check digit fits the first eight digits (their weighted sum leaves remainder 1 modulo 11), "
            "so no organisasjonsnummer starts with them",
            "ingen kontrollsiffer passer til de åtte første sifrene (den vektede summen gir rest 1 ved deling "
            "på 11), så ingen organisasjonsnummer begynner slik",
        )
    if expected != int(value[8]):
        return (
            f"the check digit (digit 9) is wrong (expected {expected}, found {value[8]})",
            f"kontrollsifferet (siffer 9) er feil (forventet {expected}, fant {value[8]})",
        )
    return None


def _check_her(value: str) -> _Text | None:
    problem = _digits(value, 1, 9)
    if problem:
        return problem
    if value[0] == "0":
        return ("must not start with 0", "skal ikke begynne med 0")
    return None


_CHECKS: dict[str, Callable[[str], _Text | None]] = {
    "fnr": _check_fnr,
    "dnr": _check_dnr,
    "hnr": _check_fhn,
    "hpr": _check_hpr,
    "orgnr": _check_orgnr,
    "her": _check_her,
}


def _digits(value: str, shortest: int, longest: int) -> _Text | None:
    """Problem with the characters or the length of a digits-only value."""
    if not value:
        return ("the value is empty", "verdien er tom")
    for position, char in enumerate(value, start=1):
        if char not in _DIGITS:
            return (
                f"contains a character that is not a digit: {char!r} at position {position}",
                f"inneholder et tegn som ikke er et siffer: {char!r} på plass {position}",
            )
    count = len(value)
    if shortest <= count <= longest:
        return None
    digits_en = "digit" if count == 1 else "digits"
    if shortest == longest:
        return (
            f"has {count} {digits_en}, but must have exactly {shortest}",
            f"har {count} siffer, men skal ha nøyaktig {shortest}",
        )
    return (
        f"has {count} {digits_en}, but must have {shortest} to {longest}",
        f"har {count} siffer, men skal ha {shortest} til {longest}",
    )


def _century(year: int, individual: int) -> int | None:
    """The century from the two-digit year and the individual digits, or None when the series does not tell."""
    if individual <= 499:
        return 1900
    if individual <= 749 and year >= 54:
        return 1800
    if year <= 39:  # 500–999
        return 2000
    if individual >= 900:  # year 40–99
        return 1900
    return None  # 500–749 with year 40–53, 750–899 with year 40–99: not handed out for a birth date


def _birth_date(value: str, day_offset: int, month_offsets: Sequence[int]) -> _Text | None:
    """Problem with the date in digits 1–6, after taking ``day_offset`` off the day and one of ``month_offsets``
    off the month."""
    raw_month = int(value[2:4])
    month_offset = next((o for o in month_offsets if 1 <= raw_month - o <= 12), None)
    if month_offset is None:
        ranges = [f"{o + 1:02}–{o + 12:02}" for o in month_offsets]
        listed_en = " or ".join([", ".join(ranges[:-1]), ranges[-1]] if len(ranges) > 1 else ranges)
        listed_nb = " eller ".join([", ".join(ranges[:-1]), ranges[-1]] if len(ranges) > 1 else ranges)
        return (
            f"the month (digits 3–4) is {value[2:4]}, which is not {listed_en}",
            f"måneden (siffer 3–4) er {value[2:4]}, som ikke er {listed_nb}",
        )
    day = int(value[:2]) - day_offset
    month = raw_month - month_offset
    year = int(value[4:6])
    century = _century(year, int(value[6:9]))
    try:
        # With the century unknown, year 2000 (a leap year) lets 29 February through.
        datetime.date(2000 if century is None else century + year, month, day)
    except ValueError:
        shown = f"{day:02}.{month:02}." + (f"{year:02}" if century is None else f"{century + year}")
        offsets_en = [f"day − {day_offset}"] if day_offset else []
        offsets_nb = [f"dag − {day_offset}"] if day_offset else []
        if month_offset:
            offsets_en.append(f"month − {month_offset}")
            offsets_nb.append(f"måned − {month_offset}")
        after_en = f" (after {', '.join(offsets_en)})" if offsets_en else ""
        after_nb = f" (etter {', '.join(offsets_nb)})" if offsets_nb else ""
        return (
            f"the date part (digits 1–6, {value[:6]}) is not a real date: {shown}{after_en} does not exist",
            f"datodelen (siffer 1–6, {value[:6]}) er ikke en gyldig dato: {shown}{after_nb} finnes ikke",
        )
    return None


def _person_check_digits(value: str) -> _Text | None:
    """Problem with the two check digits (digits 10 and 11) of an 11-digit person number."""
    for position, weights, ordinal_en, ordinal_nb in (
        (9, _PERSON_WEIGHTS_1, "first", "første"),
        (10, _PERSON_WEIGHTS_2, "second", "andre"),
    ):
        expected = mod11_check_digit(value[:position], weights)
        if expected is None:
            return (
                f"no {ordinal_en} check digit fits the first {position} digits (their weighted sum leaves "
                "remainder 1 modulo 11), so the number cannot be valid",
                f"det finnes ikke noe gyldig {ordinal_nb} kontrollsiffer for de {position} første sifrene (den "
                "vektede summen gir rest 1 ved deling på 11), så nummeret kan ikke være gyldig",
            )
        found = value[position]
        if expected != int(found):
            return (
                f"the {ordinal_en} check digit (digit {position + 1}) is wrong (expected {expected}, found {found})",
                f"det {ordinal_nb} kontrollsifferet (siffer {position + 1}) er feil (forventet {expected}, "
                f"fant {found})",
            )
    return None
