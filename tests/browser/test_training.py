"""Issue 7, Done means: an editor creates a course with two lessons (one
with a quiz) in the Wagtail admin; a farmer completes it on a phone,
downloads the certificate PDF, and the public verification URL confirms it.

The editor works at a desktop viewport in /cms-admin/ (a superuser account
made for the test); the course goes under the demo's TrainingIndexPage
(made here if the demo has none). The farmer is a plain shop account with
no name, so the certificate page asks for one; the quiz is refused once
with an answer missing (nothing lost), failed once, then passed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from cms.models import (
    Certificate,
    CoursePage,
    HomePage,
    LessonProgress,
    QuizAttempt,
    TrainingIndexPage,
)
from tests.browser.conftest import axe_violations

DESKTOP = {"width": 1280, "height": 900}
EDITOR = "editor-training"
EDITOR_PASSWORD = "wangnong-editor-2026"
FARMER = "farmer-training@example.cn"
FARMER_PASSWORD = "wangnong-farmer-2026"
FARMER_NAME = "李春生"

COURSE = "农产品直播带货入门"
LESSON_1 = "直播前的准备"
LESSON_2 = "直播收款小测验"
QUESTIONS = [
    {
        "prompt": "直播时商品的价格应该怎样？",
        "choices": "和店铺里的标价一致\n随口临时改价",
        "correct": "1",
        "explanation": "价格以店铺标价为准，避免纠纷。",
    },
    {
        "prompt": "观众要求私下转账付款，怎么办？",
        "choices": "同意，能省手续费\n拒绝，只通过平台收款",
        "correct": "2",
        "explanation": "私下转账没有保障，是常见的诈骗手法。",
    },
]


def pdf_text(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils' pdftotext is needed"
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode("utf-8")


@pytest.fixture
def editor():
    User = get_user_model()
    user = User.objects.filter(username=EDITOR).first()
    if user is None:
        user = User.objects.create_superuser(EDITOR, "editor-training@example.cn", EDITOR_PASSWORD)
    return user


@pytest.fixture
def farmer():
    User = get_user_model()
    user = User.objects.filter(email=FARMER).first()
    if user is None:
        user = User.objects.create_user(FARMER, FARMER, FARMER_PASSWORD)
    return user


@pytest.fixture
def training_index():
    """The demo's 培训 section; made under the home page if the demo has none."""
    index = TrainingIndexPage.objects.live().first()
    if index is None:
        home = HomePage.objects.first()
        index = home.add_child(instance=TrainingIndexPage(title="农民培训", slug="training-test"))
    return index


@pytest.fixture
def clean_course():
    """A rerun against the same demo starts without the course."""
    yield
    for course in CoursePage.objects.filter(title=COURSE):
        Certificate.objects.filter(course=course).delete()
        course.delete()


# --- The editor --------------------------------------------------------------------------


def admin_sign_in(page: Page) -> None:
    page.goto("/cms-admin/login/")
    page.locator("#id_username").fill(EDITOR)
    page.locator("#id_password").fill(EDITOR_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cms-admin/$"))


def add_child_page(page: Page, parent_pk: int) -> None:
    """From the parent's listing, 添加子页面; with one allowed page type
    Wagtail goes straight to its form."""
    page.goto(f"/cms-admin/pages/{parent_pk}/")
    page.get_by_role("link", name=re.compile("添加子页面|Add child page")).first.click()
    expect(page.locator("#id_title")).to_be_visible()


def publish(page: Page) -> None:
    """The editor's footer: open the action menu next to 保存草稿, then 发布."""
    footer = page.locator("footer")
    footer.get_by_role("button", name=re.compile("更多动作|More actions")).click()
    footer.get_by_role("button", name=re.compile(r"^\s*(发布|Publish)\s*$")).click()
    expect(page.locator(".messages")).to_contain_text(re.compile("发布|published"))


def editor_creates_the_course(page: Page, index: TrainingIndexPage) -> CoursePage:
    admin_sign_in(page)

    add_child_page(page, index.pk)
    page.locator("#id_title").fill(COURSE)
    page.locator("#id_intro").fill("用手机直播卖农产品：开播前准备、讲解商品、安全收款。")
    publish(page)
    course = CoursePage.objects.get(title=COURSE)
    assert course.live and course.get_parent().pk == index.pk

    add_child_page(page, course.pk)
    page.locator("#id_title").fill(LESSON_1)
    page.locator("#id_summary").fill("手机、支架、补光灯和网络，开播前检查一遍。")
    publish(page)

    add_child_page(page, course.pk)
    page.locator("#id_title").fill(LESSON_2)
    page.locator("#id_summary").fill("两道题，检查你是否记住了安全收款的要点。")
    page.locator("#id_pass_mark").fill("100")
    for n, question in enumerate(QUESTIONS):
        page.locator("#id_questions-ADD").click()
        for field, value in question.items():
            page.locator(f"#id_questions-{n}-{field}").fill(value)
    publish(page)

    lessons = list(course.lessons())
    assert [lesson.title for lesson in lessons] == [LESSON_1, LESSON_2]
    quiz = lessons[1]
    assert [q.prompt for q in quiz.questions.order_by("sort_order")] == [
        q["prompt"] for q in QUESTIONS
    ]
    assert quiz.pass_mark == 100
    return course


# --- The farmer --------------------------------------------------------------------------


def farmer_signs_in(page: Page, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("电子邮件|邮箱")).fill(FARMER)
    form.get_by_label("密码").fill(FARMER_PASSWORD)
    form.get_by_role("button", name="登录").click()


def answer(page: Page, question: dict, choice: int) -> None:
    group = page.get_by_role("group", name=re.compile(re.escape(question["prompt"])))
    text = question["choices"].splitlines()[choice - 1]
    group.get_by_role("radio", name=text).check()


def test_editor_creates_a_course_and_a_farmer_completes_it(
    new_page, editor, farmer, training_index, clean_course
):
    admin = new_page(viewport=DESKTOP)
    course = editor_creates_the_course(admin, training_index)
    lesson_1, quiz = course.lessons()

    page = new_page()  # the farmer's phone, 360 px
    # Signed out, the course invites to sign in instead of showing forms.
    page.goto(course.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    expect(page.locator("body")).to_contain_text("登录后记录学习进度")
    farmer_signs_in(page, course.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    expect(page.locator(".learning-progress")).to_contain_text("已学完 0 / 2 课")

    # Lesson 1: read it and mark it done.
    page.get_by_role("link", name="从第一课开始").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_1)
    page.get_by_role("button", name="学完了，标记本课已完成").click()
    expect(page.get_by_role("status").filter(has_text="本课已学完")).to_have_count(2)
    assert LessonProgress.objects.filter(user=farmer, lesson=lesson_1).exists()

    # Lesson 2: the quiz. The form carries no answers or explanations.
    page.get_by_role("link", name=re.compile(LESSON_2)).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_2)
    html = page.content()
    assert all(q["explanation"] not in html for q in QUESTIONS)

    # Sent with the second question unanswered: refused, the first answer kept.
    answer(page, QUESTIONS[0], 1)
    page.get_by_role("button", name="提交答案").click()
    expect(page.get_by_role("alert")).to_contain_text("还有 1 道题没有作答")
    expect(page.get_by_role("alert")).to_contain_text("第 2 题")
    expect(page.get_by_role("radio", name="和店铺里的标价一致")).to_be_checked()
    assert not QuizAttempt.objects.filter(user=farmer).exists()
    assert axe_violations(page) == []

    # One wrong answer: 50 %, below the pass mark of 100 %.
    answer(page, QUESTIONS[1], 1)
    page.get_by_role("button", name="提交答案").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("测验结果")
    expect(page.locator(".quiz-outcome")).to_contain_text("未通过：答对 1 / 2 题（50%）")
    expect(page.locator("body")).to_contain_text(QUESTIONS[1]["explanation"])
    assert axe_violations(page) == []
    assert not LessonProgress.objects.filter(user=farmer, lesson=quiz).exists()

    # Again, right this time.
    page.get_by_role("link", name="重新作答").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_2)
    answer(page, QUESTIONS[0], 1)
    answer(page, QUESTIONS[1], 2)
    page.get_by_role("button", name="提交答案").click()
    expect(page.locator(".quiz-outcome")).to_contain_text("通过！答对 2 / 2 题（100%）")
    assert QuizAttempt.objects.filter(user=farmer).count() == 2

    # The course is complete; the account has no name, so the certificate asks for one.
    page.get_by_role("link", name=re.compile("返回课程")).click()
    expect(page.locator(".learning-progress")).to_contain_text("已学完 2 / 2 课")
    expect(page.locator(".learning-progress")).to_contain_text("课程已完成")
    page.get_by_role("link", name="领取结业证书").click()
    page.get_by_label("证书上的姓名").fill(FARMER_NAME)
    page.get_by_role("button", name="颁发证书").click()
    expect(page.get_by_role("status").filter(has_text="证书有效")).to_be_visible()
    certificate = Certificate.objects.get(user=farmer, course=course)
    assert certificate.name == FARMER_NAME

    # The PDF.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载结业证书（PDF）").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(pdf_text(pdf).split())
    assert FARMER_NAME in text and COURSE in text and certificate.code in text
    url = re.search(r"https?://[^\s]+?/certificates/" + re.escape(certificate.code) + "/", text)
    assert url, text

    # Anyone with the URL (here: a fresh, signed-out phone) sees it confirmed.
    public = new_page()
    public.goto(url.group(0))
    expect(public.get_by_role("heading", level=1)).to_have_text("结业证书验证")
    verified = public.locator(".certificate-verified")
    expect(verified).to_contain_text("证书有效")
    expect(verified).to_contain_text(FARMER_NAME)
    expect(verified).to_contain_text(COURSE)
    expect(verified).not_to_contain_text(FARMER)  # no e-mail address
    assert axe_violations(public) == []
    # And by typing the code (lower case, with spaces) into the verification form.
    public.goto("/certificates/verify/")
    public.get_by_label("证书编号").fill(certificate.code.lower().replace("-", " "))
    public.get_by_role("button", name="验证").click()
    expect(public.locator(".certificate-verified")).to_contain_text(FARMER_NAME)
    # A mistyped code is refused as such.
    public.goto("/certificates/verify/")
    typo = certificate.code[:-1] + ("A" if certificate.code[-1] != "A" else "B")
    public.get_by_label("证书编号").fill(typo)
    public.get_by_role("button", name="验证").click()
    expect(public.get_by_role("alert")).to_contain_text("证书编号无效")

    # 我的学习 lists it.
    page.goto("/learning/")
    expect(page.locator("body")).to_contain_text(COURSE)
    expect(page.locator("body")).to_contain_text(certificate.code)
    assert axe_violations(page) == []

    for p in (admin, page, public):
        assert not p.server_errors, p.server_errors
    assert not page.js_errors and not public.js_errors
