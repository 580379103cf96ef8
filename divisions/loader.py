"""Load the division CSVs shipped in divisions/data into the Division table."""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# Rows in the shipped files (checked by a test): a complete table has them all.
EXPECTED_ROWS = 50320

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


def row_count() -> int:
    """How many divisions the shipped CSV files hold."""
    return sum(1 for _ in iter_rows())


def ensure_loaded(using: str = "default") -> int:
    """Load the divisions into ``using`` unless they are all there already."""
    from divisions.models import Division

    if Division.objects.using(using).count() >= EXPECTED_ROWS:
        return 0
    return load_divisions(Division, using=using)


def load_divisions(division_model, batch_size: int = 5000, using: str = "default") -> int:
    """Insert every division not yet present; returns how many were added."""
    manager = division_model.objects.db_manager(using)
    existing = set(manager.values_list("code", flat=True))
    batch, added = [], 0
    for code, name, level, parent in iter_rows():
        if code in existing:
            continue
        batch.append(division_model(code=code, name=name, level=level, parent_id=parent))
        if len(batch) >= batch_size:
            manager.bulk_create(batch)
            added += len(batch)
            batch = []
    if batch:
        manager.bulk_create(batch)
        added += len(batch)
    return added
