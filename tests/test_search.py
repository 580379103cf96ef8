"""Product search on the database: Chinese terms, the results page, and an
index that follows renames."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from divisions.models import Division
from shop.search.indexing import rebuild_index
from shop.search.models import ProductSearchDocument
from shop.search.tokens import MAX_QUERY_TERMS, document_terms, join_terms, query_terms
from tests import factories

Product = get_model("catalogue", "Product")

COOPERATIVE = "天津市西青区辛口沙窝萝卜种植专业合作社"

# Real NBS codes: Tianjin, its city level, and the districts the produce comes from.
DIVISIONS = [
    ("12", "天津市", 1, None),
    ("1201", "市辖区", 2, "12"),
    ("120111", "西青区", 3, "1201"),
    ("120116", "滨海新区", 3, "1201"),
    ("120117", "宁河区", 3, "1201"),
    ("120112", "津南区", 3, "1201"),
]


# --- Terms ----------------------------------------------------------------------


def test_document_terms_hold_words_and_bigrams():
    terms = document_terms("茶淀玫瑰香葡萄")
    assert {"葡萄", "玫瑰", "茶淀", "香葡"} <= set(terms)
    assert "萄" not in terms  # single characters only with unigrams=True
    assert len(terms) == len(set(terms))


def test_title_terms_include_single_characters():
    terms = document_terms("七里海河蟹", unigrams=True)
    assert {"蟹", "河蟹", "七里", "里海"} <= set(terms)


def test_query_terms_do_not_straddle_words():
    terms = query_terms("西青区萝卜")
    assert {"西青", "青区", "萝卜"} <= set(terms)
    assert "区萝" not in terms


def test_query_terms_for_one_character_latin_and_punctuation():
    assert query_terms("蟹") == ["蟹"]
    assert query_terms("  ") == []
    assert query_terms("iPhone 15 Pro") == ["iphone", "15", "pro"]
    # Quotes and tsquery operators never reach the database as syntax.
    assert query_terms("萝卜' | !葡萄 & (") == ["萝卜", "葡萄"]
    assert len(query_terms("".join(chr(0x4E00 + i) for i in range(0, 400, 3)))) <= MAX_QUERY_TERMS


def test_join_terms():
    assert join_terms(["萝卜", "沙窝"]) == " 萝卜 沙窝 "
    assert join_terms([]) == ""


# --- The results page ----------------------------------------------------------


@pytest.fixture
def catalogue(db, django_capture_on_commit_callbacks):
    """Tianjin produce, indexed by the signals as it is created."""
    for code, name, level, parent in DIVISIONS:
        Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent_id": parent}
        )
    with django_capture_on_commit_callbacks(execute=True):
        fruit = factories.category("水果")
        vegetables = factories.category("蔬菜")
        grain = factories.category("粮油")
        aquatic = factories.category("水产")
        cooperative = factories.partner(COOPERATIVE)
        radish = factories.product(
            "沙窝萝卜",
            partner_obj=cooperative,
            categories=[vegetables],
            origin_id="120111",
            description="<p>皮薄、脆甜，可以当水果吃。</p>",
        )
        leek = factories.product("西青黄韭", partner_obj=cooperative, categories=[vegetables])
        grapes = factories.product(
            "茶淀玫瑰香葡萄",
            partner_obj=factories.partner("滨海新区茶淀葡萄合作社"),
            categories=[fruit],
            origin_id="120116",
        )
        crab = factories.product(
            "七里海河蟹",
            partner_obj=factories.partner("七里海水产合作社"),
            categories=[aquatic],
            origin_id="120117",
        )
        rice = factories.parent_product(
            "小站稻",
            [("小站稻 5斤装", "39.00", 20), ("小站稻 10斤装", "75.00", 20)],
            partner_obj=factories.partner("津南区小站稻种植合作社"),
            categories=[grain],
            origin_id="120112",
        )
        hidden = factories.product(
            "沙窝萝卜礼盒（未上架）", partner_obj=cooperative, is_public=False
        )
    return {
        "radish": radish,
        "leek": leek,
        "grapes": grapes,
        "crab": crab,
        "rice": rice,
        "hidden": hidden,
    }


def search(client, q):
    response = client.get(reverse("search:search"), {"q": q})
    assert response.status_code == 200
    return response


def titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def test_every_top_level_product_is_indexed(catalogue):
    top_level = Product.objects.filter(parent__isnull=True).count()
    assert ProductSearchDocument.objects.count() == top_level == 6
    assert not ProductSearchDocument.objects.filter(product__parent__isnull=False).exists()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("萝卜", "沙窝萝卜"),
        ("沙窝萝卜", "沙窝萝卜"),
        ("葡萄", "茶淀玫瑰香葡萄"),
        ("玫瑰香", "茶淀玫瑰香葡萄"),
        ("蟹", "七里海河蟹"),
        ("河蟹", "七里海河蟹"),
        ("小站稻", "小站稻"),
        ("西青区萝卜", "沙窝萝卜"),
        ("宁河", "七里海河蟹"),  # the origin district
        ("水产", "七里海河蟹"),  # the category
        ("脆甜", "沙窝萝卜"),  # the description, without its HTML
        ("10斤装", "小站稻"),  # a variant's name finds its parent
    ],
)
def test_query_finds_product(client, catalogue, q, expected):
    found = titles(search(client, q))
    assert expected in found, found


def test_title_hits_rank_before_other_hits(client, catalogue):
    # The leek's cooperative has 萝卜 in its name; the radish has it in its title.
    found = titles(search(client, "萝卜"))
    assert found == ["沙窝萝卜", "西青黄韭"]


def test_cooperative_name_finds_its_products(client, catalogue):
    assert set(titles(search(client, "辛口"))) == {"沙窝萝卜", "西青黄韭"}
    assert set(titles(search(client, COOPERATIVE))) == {"沙窝萝卜", "西青黄韭"}


def test_unrelated_query_finds_nothing(client, catalogue):
    response = search(client, "苹果")
    assert titles(response) == []
    assert "没有找到" in response.content.decode()


def test_one_unknown_word_still_finds_the_known_one(client, catalogue):
    assert titles(search(client, "萝卜 苹果"))[0] == "沙窝萝卜"


def test_variants_are_listed_once_under_their_parent(client, catalogue):
    found = titles(search(client, "小站稻"))
    assert found == ["小站稻"]


def test_non_public_products_are_not_found(client, catalogue):
    assert "沙窝萝卜礼盒（未上架）" not in titles(search(client, "礼盒"))
    assert "沙窝萝卜礼盒（未上架）" not in titles(search(client, "沙窝萝卜"))


def test_empty_query_lists_nothing(client, catalogue):
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get(reverse("search:search"), params)
        assert response.status_code == 200
        assert list(response.context["products"]) == []


def test_too_long_query_is_a_clear_error_and_keeps_the_text(client, catalogue):
    q = "沙窝萝卜" * 500  # 2,000 characters
    response = search(client, q)
    html = response.content.decode()
    assert "搜索词太长了" in html
    assert f'value="{q}"' in html
    assert list(response.context["products"]) == []


def test_operators_and_quotes_are_harmless(client, catalogue):
    for q in ["萝卜'", "萝卜 & | ! ( ) :*", "'; DROP TABLE x; --", "\\", "%_"]:
        response = client.get(reverse("search:search"), {"q": q})
        assert response.status_code == 200, q
    assert titles(search(client, "萝卜' & !")) == ["沙窝萝卜", "西青黄韭"]


# --- Keeping the index current -------------------------------------------------


def test_renaming_a_product_updates_the_index(
    client, catalogue, django_capture_on_commit_callbacks
):
    grapes = catalogue["grapes"]
    with django_capture_on_commit_callbacks(execute=True):
        grapes.title = "茶淀巨峰提子"
        grapes.save()
    assert "茶淀巨峰提子" in titles(search(client, "提子"))
    assert titles(search(client, "玫瑰香")) == []  # only in the old title


def test_renaming_a_cooperative_updates_its_products(
    client, catalogue, django_capture_on_commit_callbacks
):
    cooperative = catalogue["radish"].stockrecords.get().partner
    with django_capture_on_commit_callbacks(execute=True):
        cooperative.name = "天津市西青区杨柳青果蔬合作社"
        cooperative.save()
    assert set(titles(search(client, "杨柳青"))) == {"沙窝萝卜", "西青黄韭"}
    assert titles(search(client, "辛口")) == []


def test_publishing_and_categorising_later(client, catalogue, django_capture_on_commit_callbacks):
    hidden = catalogue["hidden"]
    assert titles(search(client, "礼盒")) == []
    with django_capture_on_commit_callbacks(execute=True):
        hidden.is_public = True
        hidden.save()
        hidden.categories.add(factories.category("节日礼品"))
    assert titles(search(client, "节日")) == ["沙窝萝卜礼盒（未上架）"]


def test_a_new_variant_is_indexed_under_its_parent(
    client, catalogue, django_capture_on_commit_callbacks
):
    rice = catalogue["rice"]
    with django_capture_on_commit_callbacks(execute=True):
        child = Product.objects.create(title="小站稻 胚芽米", structure=Product.CHILD, parent=rice)
        factories.stockrecord(child, price="49.00", stock=5)
    assert titles(search(client, "胚芽")) == ["小站稻"]


def test_rebuild_index(client, catalogue):
    ProductSearchDocument.objects.all().delete()
    assert titles(search(client, "萝卜")) == []
    assert rebuild_index() == 6
    assert titles(search(client, "萝卜")) == ["沙窝萝卜", "西青黄韭"]
