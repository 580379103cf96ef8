"""Load the division CSVs shipped in divisions/data into the Division table."""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# file, level, column holding the parent's code
FILES = [
    ("provinces.csv", 1, None),
    ("cities.csv", 2, "provinceCode"),
    ("areas.csv", 3, "cityCode"),
    ("streets.csv", 4, "areaCode"),
    ("villages-tianjin.csv", 5, "streetCode"),
]


def iter_rows():
    """Yield (code, name, level, parent_code) for every division, parents first."""
    for filename, level, parent_col in FILES:
        with open(DATA_DIR / filename, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                yield row["code"], row["name"], level, (row[parent_col] if parent_col else None)


def load_divisions(division_model, batch_size: int = 5000) -> int:
    """Insert every division not yet present; returns how many were added."""
    existing = set(division_model.objects.values_list("code", flat=True))
    batch, added = [], 0
    for code, name, level, parent in iter_rows():
        if code in existing:
            continue
        batch.append(division_model(code=code, name=name, level=level, parent_id=parent))
        if len(batch) >= batch_size:
            division_model.objects.bulk_create(batch)
            added += len(batch)
            batch = []
    if batch:
        division_model.objects.bulk_create(batch)
        added += len(batch)
    return added
