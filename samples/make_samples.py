"""Write the sample sheets: samples/new-buyers.xlsx and samples/new-buyers.csv.

The sheets look like what sales ops send: friendly headers, Companies mostly by
name, roles by name or number, channel lists such as ``1;2``, and about 8% of rows
with the mistakes real sheets have. They match the sandbox's default seed, so
``provisioner run samples/new-buyers.xlsx --sandbox`` shows every kind of outcome.

The output is byte-for-byte the same on every run (a fixed random seed, fixed file
timestamps), so the committed files can be checked against this script:

    python samples/make_samples.py [--out DIRECTORY]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HEADERS = (
    "Email Address",
    "First Name",
    "Last Name",
    "Phone",
    "Company",
    "Role",
    "Channels",
    "Welcome Email",
    "Cost Centre",
    "Region",
)
XLSX_ROWS = 300
CSV_ROWS = 250
# A fixed time for the workbook's properties and zip entries keeps the bytes stable.
FIXED_TIME = datetime(2025, 1, 6, 9, 0, 0)

# Approved Companies of the default seed, with the domain their people use.
COMPANIES = (
    (101, "Acme Industrial", "acme-industrial.example", "ACME"),
    (102, "Globex Supply", "globex.example", "GLX"),
    (103, "Initech Procurement", "initech.example", "INI"),
    (104, "Umbrella Wholesale", "umbrella.example", "UMB"),
    (110, "Soylent Foods", "soylent.example", "SOY"),
)
ROLES = (
    "Senior Buyer",
    "Junior Buyer",
    "Junior Buyer",
    "Admin",
    "Approver",
    "Purchasing Manager",
    "1",
    "2",
)
CHANNELS = ("1", "1", "1;2", "2", "1; 2")
REGIONS = ("EMEA", "AMER", "APAC", "")
FIRST_NAMES = (
    "Amelia",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zara",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Novak",
    "Okafor",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhang",
)
# Valid rows whose names need more than ASCII; the loader and the results
# workbook must keep them intact.
ACCENTED_NAMES = (
    ("José", "Martínez"),
    ("Søren", "Østergaard"),
    ("Siobhán", "O’Neil"),
    ("Zoë", "Lefèvre"),
    ("Łukasz", "Wróbel"),
    ("François", "Müller"),
)
# Characters that NFKD does not split into a base letter and an accent.
ASCII_FALLBACKS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "’": "", "'": ""}
)


@dataclass(frozen=True)
class SampleRow:
    email: str | None
    first_name: str
    last_name: str
    phone: str
    company: str | int
    role: str | int
    channels: str | int
    welcome: str
    cost_centre: str
    region: str

    def values(self) -> tuple[str | int | None, ...]:
        return (
            self.email,
            self.first_name,
            self.last_name,
            self.phone,
            self.company,
            self.role,
            self.channels,
            self.welcome,
            self.cost_centre,
            self.region,
        )


def ascii_part(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(ASCII_FALLBACKS))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


class RowMaker:
    """Make good rows from a seeded random generator; emails never repeat."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.used: set[str] = set()

    def good_row(self, names: tuple[str, str] | None = None) -> SampleRow:
        rng = self.random
        company_id, company_name, domain, centre_prefix = rng.choice(COMPANIES)
        first, last = names or (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        local = f"{ascii_part(first)}.{ascii_part(last)}"
        email = f"{local}@{domain}"
        suffix = 2
        while email.casefold() in self.used:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        self.used.add(email.casefold())

        # Some sheets name the Company by its id; an id typed into Excel is a number.
        company: str | int = company_id if rng.random() < 0.1 else company_name
        role: str | int = rng.choice(ROLES)
        if isinstance(role, str) and role.isdigit() and rng.random() < 0.5:
            role = int(role)
        channels: str | int = rng.choice(CHANNELS)
        if channels == "1" and rng.random() < 0.5:
            channels = 1

        phone = f"+44 20 7946 {rng.randrange(10_000):04d}" if rng.random() < 0.7 else ""
        return SampleRow(
            email=email,
            first_name=first,
            last_name=last,
            phone=phone,
            company=company,
            role=role,
            channels=channels,
            welcome=rng.choice(("yes", "yes", "no")),
            cost_centre=f"{centre_prefix}-{rng.randrange(1, 60):02d}",
            region=rng.choice(REGIONS),
        )


def bad_rows(maker: RowMaker, tag: str) -> Iterator[SampleRow]:
    """Yield the problem rows, each with the one mistake its comment names."""
    # Missing email.
    yield replace(maker.good_row(), email=None)

    # Malformed emails.
    yield replace(maker.good_row(), email="jane.doe@")
    yield replace(maker.good_row(), email=f"mark.hill at globex{tag}.example")
    yield replace(
        maker.good_row(), email=f"ops{tag}@soylent.example; buyer@soylent.example"
    )

    # Companies that do not exist (by name and by id), that are pending, rejected
    # or inactive, and a name that two Companies share.
    yield replace(maker.good_row(), company="Cyberdyne Systems")
    yield replace(maker.good_row(), company=999)
    yield replace(maker.good_row(), company="Stark Components")
    yield replace(maker.good_row(), company="Wayne Fabrication")
    yield replace(maker.good_row(), company="Tyrell Logistics")
    yield replace(maker.good_row(), company="Northwind Traders")

    # A user of the seed, in the same Company: already exists.
    yield SampleRow(
        email="dana.whitfield@acme-industrial.example",
        first_name="Dana",
        last_name="Whitfield",
        phone="",
        company="Acme Industrial",
        role="Admin",
        channels=1,
        welcome="no",
        cost_centre="ACME-HQ",
        region="EMEA",
    )

    # A user of the seed, but the sheet names another Company: a conflict.
    yield SampleRow(
        email="marco.bellini@globex.example",
        first_name="Marco",
        last_name="Bellini",
        phone="+39 02 0000 1111",
        company="Initech Procurement",
        role="Senior Buyer",
        channels="1;2",
        welcome="yes",
        cost_centre="INI-12",
        region="EMEA",
    )

    # Channel 3 is not enabled for B2B Edition, and channel 9 does not exist.
    yield replace(maker.good_row(), channels="1;3")
    yield replace(maker.good_row(), channels="9")

    # A required name is missing.
    yield replace(maker.good_row(), last_name="")

    # The required Cost Centre is missing, then too long (at most 20 characters).
    yield replace(maker.good_row(), cost_centre="")
    yield replace(maker.good_row(), cost_centre="PROCUREMENT-CENTRAL-01")

    # A Region that is not in the dropdown list.
    yield replace(maker.good_row(), region="LATAM")

    # A role that the store does not have, and a role number that does not exist.
    yield replace(maker.good_row(), role="Head Buyer")
    yield replace(maker.good_row(), role=5)


def build_rows(count: int, *, seed: int, tag: str) -> list[SampleRow]:
    """Return ``count`` rows, about 8% of them with a mistake, in a stable order."""
    maker = RowMaker(seed)
    special: list[SampleRow] = list(bad_rows(maker, tag))
    special += [maker.good_row(names) for names in ACCENTED_NAMES]
    # The customer of the seed who is not a B2B user yet: creating them links
    # their account to the Company.
    special.append(
        replace(
            maker.good_row(),
            email="legacy.buyer@umbrella.example",
            first_name="Lee",
            last_name="Okafor",
            company="Umbrella Wholesale",
        )
    )

    rows = [maker.good_row() for _ in range(count - len(special) - 6)]
    positions = sorted(maker.random.sample(range(len(rows)), len(special)))
    for offset, (position, row) in enumerate(zip(positions, special, strict=True)):
        rows.insert(position + offset, row)

    # Duplicates within the file: an identical copy of a row, then the same email
    # again with a different Company and name (a conflict), each a few rows later.
    for start in (20, 140):
        source_index = next(
            index for index in range(start, len(rows)) if rows[index] not in special
        )
        source = rows[source_index]
        rows.insert(source_index + 5, source)
        other_company = next(c[1] for c in COMPANIES if c[1] != source.company)
        conflicting = replace(source, company=other_company, first_name="Alex")
        rows.insert(source_index + 9, conflicting)
    while len(rows) < count:
        rows.append(maker.good_row())
    return rows[:count]


def write_csv(rows: list[SampleRow], path: Path) -> None:
    """Write rows as Excel's "CSV UTF-8" does: a BOM, CRLF, minimal quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row.values()])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(rows: list[SampleRow], path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row.values()))
    for column, width in zip(
        "ABCDEFGHIJ", (38, 14, 16, 18, 22, 20, 10, 14, 14, 9), strict=True
    ):
        sheet.column_dimensions[column].width = width
    # Phone numbers are text in the sheet, as a person would format them.
    for (cell,) in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        cell.number_format = "@"
    sheet.freeze_panes = "A2"
    workbook.properties.creator = "Sales Operations"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME

    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_with_fixed_zip_times(buffer.getvalue()))


def _with_fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a workbook with one fixed time on every zip entry and as its
    modification time, which openpyxl sets to the current time on save."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return output.getvalue()


def write_samples(directory: Path) -> tuple[Path, Path]:
    """Write both sample sheets into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    xlsx_path = directory / "new-buyers.xlsx"
    csv_path = directory / "new-buyers.csv"
    write_xlsx(build_rows(XLSX_ROWS, seed=2025, tag=""), xlsx_path)
    write_csv(build_rows(CSV_ROWS, seed=2026, tag="-eu"), csv_path)
    return xlsx_path, csv_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="directory to write the sheets into (default: the samples directory)",
    )
    arguments = parser.parse_args()
    for path in write_samples(arguments.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
