"""The programme's pages on a phone (360×740): a visitor finds the training
from the site's navigation, opens the demo course and walks its lessons;
news and articles too. Every page fits the screen's width and axe-core finds
no serious or critical violations."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cms.models import ArticlePage, ProgrammeIndexPage, StatisticsPage
from tests.browser.conftest import axe_violations


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def check(page: Page, found: dict) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_attached()
    assert fits_the_phone(page), f"wider than the phone: {page.url}"
    found[page.url] = axe_violations(page)


def test_training_from_the_navigation_through_a_course(page):
    found: dict[str, list] = {}
    page.goto("/")
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="农民培训").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("农民培训")
    check(page, found)

    page.get_by_role("link", name="消费者", exact=True).click()
    expect(page.get_by_role("link", name="合作社网上销售入门")).to_have_count(0)
    page.get_by_role("link", name="全部课程").first.click()
    page.get_by_role("link", name="合作社网上销售入门").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("合作社网上销售入门")
    check(page, found)

    page.get_by_role("link", name="从第一课开始").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("如何拍好农产品照片")
    check(page, found)
    page.get_by_role("link", name="下一课：生鲜包装与冷链发货").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("生鲜包装与冷链发货")
    page.get_by_role("link", name="上一课：如何拍好农产品照片").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("如何拍好农产品照片")

    assert not any(found.values()), found


def test_news_articles_and_the_statistics_link(page):
    found: dict[str, list] = {}
    index = ProgrammeIndexPage.objects.get()
    policy = ArticlePage.objects.get(kind=ArticlePage.Kind.POLICY)
    page.goto(index.url)
    check(page, found)

    page.get_by_role("link", name="政策解读", exact=True).click()  # the tag chip
    expect(page.get_by_role("link", name=policy.title)).to_be_visible()
    expect(page.get_by_role("link", name="首批村级电商服务站开门营业")).to_have_count(0)
    page.get_by_role("link", name=policy.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(policy.title)
    check(page, found)

    stats = StatisticsPage.objects.get()
    footer = page.get_by_role("contentinfo")
    expect(footer.get_by_role("link", name=stats.title)).to_have_attribute("href", stats.url)

    assert not any(found.values()), found
