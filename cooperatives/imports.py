"""Bulk product files for cooperatives: read CSV/XLSX uploads, turn each row
into a ListingData, and write the catalogue back out in the same format.

The file format (one product or variant a row, Chinese headers on the first
row; the same columns for the template, imports and exports):

    商品编码  the cooperative's SKU, required; re-importing a SKU updates it
    商品名称  分类 ("蔬菜 > 根茎类")  单位 (斤/公斤/箱/袋/盒)  价格（元）  库存
    净重（克） 采收日期  储运温层 (常温/冷藏/冷冻)  认证 (labels joined by 、)
    商品介绍  上架 (是/否)  预售 (是/否)  预计发货日期  父商品编码  规格名称

Reading never writes anything: problems with the file as a whole (not a
CSV/XLSX, missing columns, merged header cells, too many rows) raise
ImportFileError with one message and nothing is imported; problems with a
row (a bad price, a merged cell in that row) raise RowError for that row
only. cooperatives.import_tasks does the writing, through
cooperatives.listings.upsert_listing_by_sku.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.spreadsheets import FORMULA_START, safe_cell
from cooperatives.listings import ListingData
from shop.catalogue.produce import Certification, StorageClass, Unit

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# An XLSX is a zip; refuse one that would inflate past this (a "zip bomb").
MAX_XLSX_UNZIPPED = 200 * 1024 * 1024
# How many rows from the top may hold a title before the header row.
HEADER_SEARCH_ROWS = 10
# Exported text that a spreadsheet would run as a formula gets a leading
# apostrophe (config.spreadsheets), which reading drops again.


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    help: Any = ""
    aliases: tuple[str, ...] = ()


COLUMNS: list[Column] = [
    Column(
        "sku",
        "商品编码",
        True,
        gettext_lazy("合作社自己的编码，每行唯一；再次导入同一编码会更新该商品。"),
        ("sku", "编码", "商品编号", "货号"),
    ),
    Column(
        "title",
        "商品名称",
        True,
        gettext_lazy("规格行填写所属商品的名称（同一商品的各规格行相同）。"),
        ("名称", "品名"),
    ),
    Column(
        "category",
        "分类",
        True,
        gettext_lazy("分类名称或路径，如“蔬菜 > 根茎类”。"),
        ("商品分类", "类目"),
    ),
    Column("unit", "单位", True, gettext_lazy("斤、公斤、箱、袋或盒。"), ("销售单位",)),
    Column(
        "price",
        "价格（元）",
        True,
        gettext_lazy("大于 0，最多两位小数。"),
        ("价格", "单价", "售价", "单价（元）"),
    ),
    Column("stock", "库存", True, gettext_lazy("不小于 0 的整数。"), ("库存数量", "数量")),
    Column(
        "net_weight_g",
        "净重（克）",
        False,
        gettext_lazy("每个销售单位的净重，整数克。"),
        ("净重", "净重（g）", "重量（克）"),
    ),
    Column(
        "harvest_date",
        "采收日期",
        False,
        gettext_lazy("如 2025-11-08。"),
        ("采收/生产日期", "生产日期"),
    ),
    Column(
        "storage_class",
        "储运温层",
        False,
        gettext_lazy("常温、冷藏或冷冻，留空为常温。"),
        ("温层",),
    ),
    Column(
        "certifications",
        "认证",
        False,
        gettext_lazy(
            "多个用顿号“、”分隔，如“绿色食品、农产品地理标志”；须是本合作社持有有效证书的认证。"
        ),
        ("认证标志",),
    ),
    Column("description", "商品介绍", False, "", ("介绍", "商品描述", "描述")),
    Column("is_public", "上架", False, gettext_lazy("是或否，留空为是。"), ("是否上架",)),
    Column("presale", "预售", False, gettext_lazy("是或否，留空为否。"), ("是否预售",)),
    Column(
        "presale_ships_on",
        "预计发货日期",
        False,
        gettext_lazy("预售商品必填，如 2026-06-20。"),
        ("发货日期",),
    ),
    Column(
        "parent_sku",
        "父商品编码",
        False,
        gettext_lazy("规格（如 5斤装）填父商品的商品编码；普通商品留空。"),
        ("父编码",),
    ),
    Column(
        "variant_title", "规格名称", False, gettext_lazy("如“5斤装”；普通商品留空。"), ("规格",)
    ),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
HEADERS = [c.header for c in COLUMNS]

EXAMPLE_ROW: dict[str, Any] = {
    "sku": "LB-001",
    "title": "沙窝萝卜 5斤装",
    "category": "蔬菜 > 根茎类",
    "unit": "箱",
    "price": Decimal("39.90"),
    "stock": 100,
    "net_weight_g": 2500,
    "harvest_date": dt.date(2025, 11, 8),
    "storage_class": "常温",
    "certifications": "",
    "description": "霜降后采收，皮薄肉脆，甜中带辣。",
    "is_public": "是",
    "presale": "否",
    "presale_ships_on": None,
    "parent_sku": "",
    "variant_title": "",
}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RowError(Exception):
    """One row cannot be imported; ``messages`` say why (without the row number)."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


@dataclass
class SheetRow:
    number: int  # the row number the spreadsheet program shows
    cells: dict[str, Any]  # column key -> raw value (str, number, date, bool or None)
    problems: list[str] = field(default_factory=list)  # e.g. merged cells


@dataclass
class Sheet:
    format: str
    header_row: int
    keys: list[str]  # column keys present in the file
    rows: list[SheetRow]
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def has_all_columns(self) -> bool:
        return len(self.keys) == len(COLUMNS)


def row_message(row: int, message: str) -> str:
    """“第 7 行：价格必须大于 0” (the form every row problem is shown in)."""
    return _("第 %(row)s 行：%(message)s") % {"row": row, "message": message}


def max_rows() -> int:
    return int(getattr(settings, "WANGNONG_MAX_IMPORT_ROWS", 20000))


# --- detecting the format ----------------------------------------------------


def detect_format(data: bytes, filename: str = "") -> str:
    """CSV or XLSX, from the content (an XLSX is a zip holding
    xl/workbook.xml); raise ImportFileError for anything else."""
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise ImportFileError(_("XLSX 文件已损坏，请在 Excel 或 WPS 中重新保存后再上传。"))
        if "xl/workbook.xml" in names:
            return XLSX
        raise ImportFileError(_("这个压缩文件不是 XLSX 表格。只支持 .xlsx 和 .csv 文件。"))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(
            _("这是旧版 Excel（.xls）文件，请在 Excel 或 WPS 中“另存为” .xlsx 或 CSV 后再上传。")
        )
    if name.endswith(".xlsx"):
        raise ImportFileError(_("XLSX 文件已损坏，请在 Excel 或 WPS 中重新保存后再上传。"))
    head = data[:8192]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_("只支持 .xlsx 和 .csv 文件。"))
    return CSV


# --- reading -----------------------------------------------------------------


def _header_key(text: Any) -> str:
    """Headers compare without spaces, case or full-/half-width differences."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"[\s*＊]+", "", value).lower()


HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.key, *_column.aliases):
        HEADER_LOOKUP.setdefault(_header_key(_name), _column.key)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _map_header(values: list[Any], header_row: int) -> tuple[dict[int, str], list[str]]:
    """Column index -> key; raise for missing required or repeated columns."""
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    ignored = []
    for index, value in enumerate(values):
        if _is_blank(value):
            continue
        key = HEADER_LOOKUP.get(_header_key(value))
        if key is None:
            ignored.append(str(value).strip())
            continue
        if key in seen:
            raise ImportFileError(
                _(
                    "“%(header)s”列出现了两次（%(first)s 列和 %(second)s 列），请删除其中一列后再上传。"
                )
                % {
                    "header": COLUMN_BY_KEY[key].header,
                    "first": _column_letter(seen[key]),
                    "second": _column_letter(index),
                }
            )
        seen[key] = index
        mapping[index] = key
    missing = [c.header for c in COLUMNS if c.required and c.key not in seen]
    if missing:
        raise ImportFileError(
            _(
                "缺少必填的列：%(columns)s。请按模板填写表头（第 %(row)s 行），"
                "可以先下载模板对照，什么都没有导入。"
            )
            % {"columns": "、".join(missing), "row": header_row}
        )
    return mapping, ignored


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Any]]:
    """The header is the first row that names the SKU column (a title row
    above it is allowed); failing that, the first non-empty row."""
    first: tuple[int, list[Any]] | None = None
    for checked, (number, values) in enumerate(rows):
        if all(_is_blank(v) for v in values):
            continue
        if first is None:
            first = (number, values)
        if any(HEADER_LOOKUP.get(_header_key(v)) == "sku" for v in values):
            return number, values
        if checked >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise ImportFileError(_("文件里没有内容。"))
    return first


def _build_sheet(
    fmt: str,
    rows: Iterator[tuple[int, list[Any]]],
    merged: list[tuple[str, int, int, int, int]] | None = None,
) -> Sheet:
    header_row, header_values = _find_header(rows)
    for ref, _min_col, min_row, _max_col, max_row in merged or []:
        if min_row <= header_row <= max_row:
            raise ImportFileError(
                _("表头（第 %(row)s 行）有合并单元格（%(ref)s），请取消合并后再上传。")
                % {"row": header_row, "ref": ref}
            )
    mapping, ignored = _map_header(header_values, header_row)
    row_problems: dict[int, list[str]] = {}
    for ref, min_col, min_row, max_col, max_row in merged or []:
        if max_row <= header_row:
            continue  # a merged title above the header is fine
        if not any(min_col - 1 <= i <= max_col - 1 for i in mapping):
            continue  # only columns we do not read
        rows_text = (
            _("第 %(first)s–%(last)s 行") % {"first": min_row, "last": max_row}
            if max_row > min_row
            else _("第 %(first)s 行") % {"first": min_row}
        )
        problem = _("%(rows)s有合并单元格（%(ref)s），请取消合并、每行填写完整后再上传。") % {
            "rows": rows_text,
            "ref": ref,
        }
        for number in range(min_row, max_row + 1):
            row_problems.setdefault(number, []).append(problem)
    limit = max_rows()
    sheet_rows: list[SheetRow] = []
    for number, values in rows:
        cells = {key: values[i] if i < len(values) else None for i, key in mapping.items()}
        problems = row_problems.pop(number, [])
        if not problems and all(_is_blank(v) for v in cells.values()):
            continue
        sheet_rows.append(SheetRow(number, cells, problems))
        if len(sheet_rows) > limit:
            raise ImportFileError(
                _("一次最多导入 %(limit)s 行商品，请把文件分成几个后分别上传。") % {"limit": limit}
            )
    # Merged ranges that reach below the last row with content.
    for number, problems in sorted(row_problems.items()):
        sheet_rows.append(SheetRow(number, dict.fromkeys(mapping.values()), problems))
    if not sheet_rows:
        raise ImportFileError(
            _("表头下面没有商品。请从第 %(row)s 行起每行填写一个商品。") % {"row": header_row + 1}
        )
    return Sheet(fmt, header_row, list(dict.fromkeys(mapping.values())), sheet_rows, ignored)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which
    covers GBK: what Excel on Chinese Windows writes for “CSV”)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("无法识别文件的文字编码。请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”后再上传。")
        )


def _csv_rows(text: str) -> Iterator[tuple[int, list[Any]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error:
        raise ImportFileError(
            _("CSV 文件格式有误，无法读取。请在 Excel 或 WPS 中重新保存后再上传。")
        )


def read_csv(data: bytes) -> Sheet:
    return _build_sheet(CSV, _csv_rows(decode_csv(data)))


def _merged_ranges(worksheet) -> list[tuple[str, int, int, int, int]]:
    """Merged ranges of a read-only worksheet. openpyxl's read-only mode
    does not load them, so read the <mergeCell ref="B3:B5"/> elements from
    the sheet's XML ourselves."""
    from openpyxl.utils import range_boundaries

    ranges = []
    with worksheet._get_source() as source:  # openpyxl 3.1's ReadOnlyWorksheet
        for _event, element in ElementTree.iterparse(source, events=("end",)):
            if element.tag.endswith("}mergeCell"):
                ref = element.get("ref", "")
                try:
                    min_col, min_row, max_col, max_row = range_boundaries(ref)
                except (TypeError, ValueError):
                    continue
                ranges.append((ref, min_col, min_row, max_col, max_row))
            elif element.tag.endswith("}row"):
                element.clear()
    return ranges


def read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    broken = _("XLSX 文件已损坏，请在 Excel 或 WPS 中重新保存后再上传。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNZIPPED:
                raise ImportFileError(_("XLSX 文件解压后太大，请删除多余的工作表或图片后再上传。"))
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        OSError,
        ElementTree.ParseError,
    ):
        raise ImportFileError(broken)
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("文件里没有工作表。"))
        worksheet = workbook.worksheets[0]
        try:
            merged = _merged_ranges(worksheet)
        except (KeyError, ElementTree.ParseError):
            raise ImportFileError(broken)
        worksheet.reset_dimensions()  # some programs write a wrong size

        def rows() -> Iterator[tuple[int, list[Any]]]:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                yield number, list(values)

        try:
            return _build_sheet(XLSX, rows(), merged)
        except (KeyError, ValueError, ElementTree.ParseError, zipfile.BadZipFile):
            raise ImportFileError(broken)
    finally:
        workbook.close()


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    """Read an uploaded file (any supported format); raises ImportFileError."""
    fmt = detect_format(data, filename)
    return read_xlsx(data) if fmt == XLSX else read_csv(data)


# --- cells to values -----------------------------------------------------------


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_START and text[1:2]:
        text = text[1:]
    return text


def _number_text(value: Any) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value))
    return re.sub(r"[\s,¥元克g]", "", text, flags=re.IGNORECASE)


def _decimal(value: Any, label: str) -> Decimal:
    if isinstance(value, bool):
        raise RowError([_("%(label)s必须是数字。") % {"label": label}])
    if isinstance(value, float):
        number = Decimal(repr(value))
        rounded = number.quantize(Decimal("0.01"))
        if abs(number - rounded) < Decimal("0.000001"):
            number = rounded  # 0.1 + 0.2 in a formula
        return number
    if isinstance(value, int):
        return Decimal(value)
    text = _number_text(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(
            [_("%(label)s“%(value)s”不是数字。") % {"label": label, "value": cell_text(value)[:20]}]
        )
    if not number.is_finite():
        raise RowError([_("%(label)s必须是数字。") % {"label": label}])
    return number


def _integer(value: Any, label: str) -> int:
    number = _decimal(value, label)
    if number != number.to_integral_value():
        raise RowError([_("%(label)s必须是整数。") % {"label": label}])
    return int(number)


DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def _date(value: Any, label: str) -> dt.date | None:
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "")
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise RowError(
        [
            _("%(label)s“%(value)s”不是有效的日期，请写成 2025-11-08 这样的格式。")
            % {"label": label, "value": cell_text(value)[:20]}
        ]
    )


YES = {"是", "y", "yes", "true", "1", "对", "√", "✓", "上架", "预售"}
NO = {"否", "n", "no", "false", "0", "不", "×", "下架"}


def _yes_no(value: Any, label: str, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", cell_text(value)).lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowError([_("%(label)s只能填“是”或“否”。") % {"label": label}])


_LOOKUPS: dict[tuple, dict[str, str]] = {}


def _choice_lookup(choices: type, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised code, label (UI language and Chinese) or alias -> code;
    built once per vocabulary and language."""
    key = (choices, translation.get_language())
    if key not in _LOOKUPS:
        _LOOKUPS[key] = _build_lookup(choices, extra)
    return _LOOKUPS[key]


def _build_lookup(choices: type, extra: dict[str, str] | None) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        lookup[_header_key(value)] = value
        lookup[_header_key(label)] = value
    for value, label in zip(choices.values, _source_labels(choices), strict=True):
        lookup[_header_key(label)] = value  # the Chinese label in any UI language
    for alias, value in (extra or {}).items():
        lookup[_header_key(alias)] = value
    return lookup


def _source_labels(choices: type) -> list[str]:
    """The Chinese labels (the file format is Chinese whatever the UI language)."""
    with translation.override(None):  # no translation: the Chinese source strings
        return [str(label) for label in choices.labels]


UNIT_ALIASES = {"千克": Unit.KG, "kg": Unit.KG, "公斤装": Unit.KG, "件": Unit.BOX, "包": Unit.BAG}
STORAGE_ALIASES = {
    "冷链": StorageClass.CHILLED,
    "冷冻品": StorageClass.FROZEN,
    "常温品": StorageClass.AMBIENT,
}
CERT_ALIASES = {
    "地理标志": Certification.GEO_INDICATION,
    "地标": Certification.GEO_INDICATION,
    "有机": Certification.ORGANIC,
    "无公害": Certification.POLLUTION_FREE,
    "绿色": Certification.GREEN_FOOD,
}


def _choice(value: Any, lookup: dict[str, str], label: str, choices: type) -> str:
    text = cell_text(value)
    if not text:
        return ""
    found = lookup.get(_header_key(text))
    if found is None:
        raise RowError(
            [
                _("%(label)s“%(value)s”不认识，请填写：%(choices)s。")
                % {
                    "label": label,
                    "value": text[:20],
                    "choices": "、".join(_source_labels(choices)),
                }
            ]
        )
    return str(found)


def _certifications(value: Any) -> list[str]:
    text = cell_text(value)
    if not text:
        return []
    lookup = _choice_lookup(Certification, CERT_ALIASES)
    codes: list[str] = []
    unknown = []
    for part in re.split(r"[、,，;；/|\s]+", text):
        if not part:
            continue
        code = lookup.get(_header_key(part))
        if code is None:
            unknown.append(part)
        elif code not in codes:
            codes.append(str(code))
    if unknown:
        raise RowError(
            [
                _("认证“%(value)s”不认识，请填写：%(choices)s。")
                % {
                    "value": "、".join(unknown)[:40],
                    "choices": "、".join(_source_labels(Certification)),
                }
            ]
        )
    return codes


def cells_to_values(cells: dict[str, Any]) -> dict[str, Any]:
    """Check and convert one row's cells (types and formats; ranges and
    business rules are the listing service's); raises RowError listing every
    problem in the row. Only keys present in ``cells`` are returned."""
    errors: list[str] = []
    values: dict[str, Any] = {}

    def convert(key: str, function, *args) -> None:
        if key not in cells:
            return
        try:
            values[key] = function(cells[key], *args)
        except RowError as exc:
            errors.extend(exc.messages)

    values["sku"] = cell_text(cells.get("sku"))
    if not values["sku"]:
        errors.append(_("商品编码不能为空。"))
    for key in ("title", "category", "description", "parent_sku", "variant_title"):
        if key in cells:
            values[key] = cell_text(cells[key])
    convert("price", _price)
    convert("stock", _optional_integer, _("库存"))
    convert("net_weight_g", _optional_integer, _("净重"))
    convert("harvest_date", _date, _("采收日期"))
    convert("presale_ships_on", _date, _("预计发货日期"))
    convert("unit", _choice, _choice_lookup(Unit, UNIT_ALIASES), _("单位"), Unit)
    convert(
        "storage_class",
        _choice,
        _choice_lookup(StorageClass, STORAGE_ALIASES),
        _("储运温层"),
        StorageClass,
    )
    convert("certifications", _certifications)
    convert("is_public", _yes_no, _("上架"), True)
    convert("presale", _yes_no, _("预售"), False)
    if errors:
        raise RowError(errors)
    return values


def _price(value: Any) -> Decimal | None:
    if _is_blank(value):
        return None
    price = _decimal(value, _("价格"))
    if price <= 0:
        raise RowError([_("价格必须大于 0。")])
    if price != price.quantize(Decimal("0.01")):
        raise RowError([_("价格最多保留两位小数（精确到分）。")])
    return price.quantize(Decimal("0.01"))


def _optional_integer(value: Any, label: str) -> int | None:
    return None if _is_blank(value) else _integer(value, label)


# Values a ListingData gets for a column the file does not have, when the
# SKU is new (for a known SKU the product's current value is kept).
DEFAULTS: dict[str, Any] = {
    "title": "",
    "category": "",
    "unit": "",
    "price": None,
    "stock": None,
    "net_weight_g": None,
    "harvest_date": None,
    "storage_class": "",
    "certifications": [],
    "description": "",
    "is_public": True,
    "presale": False,
    "presale_ships_on": None,
    "parent_sku": "",
    "variant_title": "",
}


def to_listing(row: SheetRow, current: dict[str, Any] | None = None) -> ListingData:
    """The ListingData for one row. ``current`` holds the product's present
    values (as export_values gives them) for columns the file leaves out."""
    if row.problems:
        raise RowError(list(row.problems))
    values = cells_to_values(row.cells)
    base = dict(DEFAULTS)
    if current:
        try:
            base.update(cells_to_values(current))
        except RowError:
            pass  # the stored product has odd values; the file's win anyway
    base.update(values)
    return ListingData(**base)


def ordered_rows(rows: Iterable[SheetRow]) -> list[SheetRow]:
    """Products before their variants, so a variant row may come before
    its parent's row in the file; otherwise file order."""
    rows = list(rows)
    return [r for r in rows if not cell_text(r.cells.get("parent_sku"))] + [
        r for r in rows if cell_text(r.cells.get("parent_sku"))
    ]


def _category_parts(value: Any) -> list[str]:
    return [p.strip() for p in re.split(r"\s*[>＞/]\s*", cell_text(value)) if p.strip()]


def _same_category(value: Any, current: dict[str, Any]) -> bool:
    """The row names one of the product's categories (by path or by name)."""
    wanted = _category_parts(value)
    paths = current.get("_categories") or [current.get("category")]
    for path in paths:
        have = _category_parts(path)
        if wanted == have or (len(wanted) == 1 and have and have[-1] == wanted[0]):
            return True
    return False


def changed_keys(row: dict[str, Any], current: dict[str, Any]) -> set[str] | None:
    """The columns in which a row differs from the product it names (as
    export_rows gives it); None when the row does not even read."""
    try:
        mine = cells_to_values(row)
        theirs = cells_to_values({k: v for k, v in current.items() if k in COLUMN_BY_KEY})
    except RowError:
        return None
    changed = set()
    for key in row:
        if key == "category":
            if not _same_category(row[key], current):
                changed.add(key)
        elif mine.get(key) != theirs.get(key):
            changed.add(key)
    return changed


def same_values(row: dict[str, Any], current: dict[str, Any]) -> bool:
    """True when a row would change nothing on the product it names."""
    return changed_keys(row, current) == set()


# --- the catalogue as rows (export) ------------------------------------------------


def _category_paths() -> dict[int, str]:
    """Category pk -> “蔬菜 > 根茎类”, from one query (treebeard paths)."""
    from oscar.core.loading import get_model

    Category = get_model("catalogue", "Category")
    rows = list(Category.objects.values_list("pk", "path", "name"))
    names = {path: name for _pk, path, name in rows}
    step = Category.steplen
    return {
        pk: " > ".join(names.get(path[:end], "") for end in range(step, len(path) + 1, step))
        for pk, path, _name in rows
    }


def _label(choices: type, value: str) -> str:
    if not value:
        return ""
    with translation.override(None):
        try:
            return str(choices(value).label)
        except ValueError:
            return value


def _yes(value: bool) -> str:
    with translation.override(None):
        return _("是") if value else _("否")


def export_rows(cooperative) -> list[dict[str, Any]]:
    """The cooperative's catalogue and stock, one row per standalone product
    or variant, in the import format (a product with variants gives one row
    per variant, repeating the product's own columns). Keys are COLUMNS'
    keys, plus ``_categories`` (every category path, for comparing) and
    ``_stockrecord`` (its pk), which the writers leave out."""
    from django.db.models import Prefetch
    from oscar.core.loading import get_model

    from cooperatives.listings import html_to_description, products_of, sku_of

    Product = get_model("catalogue", "Product")
    ProductCategory = get_model("catalogue", "ProductCategory")
    StockRecord = get_model("partner", "StockRecord")

    own = StockRecord.objects.filter(partner_id=cooperative.partner_id).order_by("pk")
    products = (
        products_of(cooperative)
        .prefetch_related(
            Prefetch("stockrecords", queryset=own, to_attr="own_stock"),
            Prefetch(
                "productcategory_set",
                queryset=ProductCategory.objects.order_by("pk"),
                to_attr="category_links",
            ),
            Prefetch(
                "children",
                queryset=Product.objects.order_by("pk").prefetch_related(
                    Prefetch("stockrecords", queryset=own, to_attr="own_stock")
                ),
                to_attr="variant_list",
            ),
        )
        .order_by("pk")
    )
    paths = _category_paths()
    rows: list[dict[str, Any]] = []
    for product in products:
        categories = [paths.get(link.category_id, "") for link in product.category_links]
        shared = {
            "title": product.title,
            "category": categories[0] if categories else "",
            "_categories": categories,  # all of them, for comparing (not written)
            "unit": _label(Unit, product.unit),
            "net_weight_g": product.net_weight_g,
            "harvest_date": product.harvest_date,
            "storage_class": _label(StorageClass, product.storage_class),
            "certifications": "、".join(
                _label(Certification, c) for c in product.certifications or []
            ),
            "description": html_to_description(product.description),
            "is_public": _yes(product.is_public),
            "presale": _yes(product.is_presale),
            "presale_ships_on": product.presale_ships_on if product.is_presale else None,
            "parent_sku": "",
            "variant_title": "",
        }
        if product.is_parent:
            parent_sku = sku_of(product)
            for child in product.variant_list:
                if not child.own_stock:
                    continue
                record = child.own_stock[0]
                row = dict(shared)
                row.update(
                    _stockrecord=record.pk,
                    sku=record.partner_sku,
                    unit=_label(Unit, child.unit or product.unit),
                    price=record.price,
                    stock=record.num_in_stock,
                    net_weight_g=child.net_weight_g or product.net_weight_g,
                    parent_sku=parent_sku,
                    variant_title=child.title,
                )
                rows.append(row)
        elif product.own_stock:
            record = product.own_stock[0]
            rows.append(
                {
                    **shared,
                    "_stockrecord": record.pk,
                    "sku": record.partner_sku,
                    "price": record.price,
                    "stock": record.num_in_stock,
                }
            )
    return rows


def template_rows() -> list[dict[str, Any]]:
    return [dict(EXAMPLE_ROW)]


# --- writing files --------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_cell(value)


def write_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column.key)) for column in COLUMNS])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


COLUMN_WIDTHS = {
    "sku": 16,
    "title": 30,
    "category": 18,
    "description": 40,
    "certifications": 24,
    "harvest_date": 13,
    "presale_ships_on": 14,
    "parent_sku": 14,
    "variant_title": 12,
}


def write_xlsx(rows: Iterable[dict[str, Any]], *, sheet_title: str = "商品") -> bytes:
    """The same columns as an XLSX: text cells stay text (SKUs keep leading
    zeros, nothing is taken as a formula), dates are dates, prices numbers;
    drop-down lists for the columns with fixed choices, and a second sheet
    explaining every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append(HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8F3EC")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, column in enumerate(COLUMNS, start=1):
            value = row.get(column.key)
            if value is None or value == "":
                continue
            cell = sheet.cell(row=count + 1, column=index)
            if isinstance(value, Decimal):
                cell.value = float(value)
                cell.number_format = "0.00"
            elif isinstance(value, dt.date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, int) and not isinstance(value, bool):
                cell.value = value
            else:
                cell.value = str(value)
                cell.data_type = "s"  # text, even if it starts with "="
                cell.number_format = "@"
    last = max(count + 1, 500) + 1
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS.get(column.key, 11)
        if column.key in ("sku", "parent_sku"):
            sheet.column_dimensions[letter].number_format = "@"
    with translation.override(None):
        lists = {
            "unit": [str(label) for label in Unit.labels],
            "storage_class": [str(label) for label in StorageClass.labels],
            "is_public": ["是", "否"],
            "presale": ["是", "否"],
        }
    for key, choices in lists.items():
        letter = get_column_letter(HEADERS.index(COLUMN_BY_KEY[key].header) + 1)
        validation = DataValidation(
            type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
        )
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "B2"

    notes = workbook.create_sheet("填写说明")
    with translation.override(None):
        notes.append(["列名", "必填", "说明"])
        for cell in notes[1]:
            cell.font = bold
            cell.fill = fill
        for column in COLUMNS:
            notes.append([column.header, "是" if column.required else "", str(column.help)])
        notes.append([])
        for line in GUIDE_LINES:
            notes.append([str(line)])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 6
    notes.column_dimensions["C"].width = 70
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GUIDE_LINES = [
    gettext_lazy("第一行是表头，请不要修改；从第二行起每行填写一个商品或一个规格。"),
    gettext_lazy(
        "同一商品有多个规格（如 5斤装、10斤装）时，每个规格一行，填写相同的父商品编码和商品信息。"
    ),
    gettext_lazy("再次上传同一商品编码会更新该商品，不会重复创建。"),
    gettext_lazy("请不要合并单元格；出错的行会单独列出，其余的行照常导入。"),
]


def write_file(rows: Iterable[dict[str, Any]], fmt: str) -> bytes:
    return write_xlsx(rows) if fmt == XLSX else write_csv(rows)
