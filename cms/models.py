"""Wagtail pages. Wagtail serves ``/`` and every CMS page; the shop (Oscar)
owns /catalogue/, /basket/, /checkout/, /accounts/ and /search/."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms.blocks import ContentStreamBlock, HomeStreamBlock, LessonStreamBlock
from cms.site_cache import CachedViewRestrictionsMixin, public_pages


class HomePage(CachedViewRestrictionsMixin, Page):
    """The site's front page, composed by editors from blocks that pull live
    products and categories from the catalogue (prices and stock are always
    the shop's own, never copied into the page)."""

    intro = StreamField(HomeStreamBlock(), blank=True, use_json_field=True, verbose_name=_("内容"))

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = [
        "cms.StandardPage",
        "cms.ProgrammeIndexPage",
        "cms.TrainingIndexPage",
        "cms.StatisticsPage",
    ]
    max_count = 1

    class Meta:
        verbose_name = _("首页")

    def route(self, request, path_components):
        """The page at ``path_components`` below home in one query (and one
        for its own row) however deep, where Wagtail asks two per level.
        Our page types do not route further themselves, so this finds what
        Wagtail's walk would: the descendant with that URL path, served if
        live (``Page.route`` with nothing left to walk)."""
        if not path_components:
            return super().route(request, path_components)
        url_path = self.url_path + "/".join(path_components) + "/"
        page = Page.objects.filter(path__startswith=self.path, url_path=url_path).first()
        if page is None:
            raise Http404
        return page.specific.route(request, [])


class StandardPage(CachedViewRestrictionsMixin, Page):
    """A plain content page (about us, help, policies)."""

    body = StreamField(
        ContentStreamBlock(), blank=True, use_json_field=True, verbose_name=_("正文")
    )

    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["cms.HomePage", "cms.StandardPage"]

    class Meta:
        verbose_name = _("内容页")


# --- Programme news and policy explainers ---------------------------------------


class ProgrammeIndexPage(CachedViewRestrictionsMixin, Page):
    """The programme's news and policy explainers, newest first, filterable
    by tag (cms/templates/cms/programme_index_page.html)."""

    intro = RichTextField(_("简介"), blank=True, features=["bold", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["cms.ArticlePage"]
    parent_page_types = ["cms.HomePage"]

    class Meta:
        verbose_name = _("项目动态栏目")

    def articles(self):
        return ArticlePage.objects.child_of(self).live().order_by("-date", "-pk")


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "cms.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ArticlePage(CachedViewRestrictionsMixin, Page):
    """A news item or a policy explainer. Goes through Wagtail's moderation
    workflow (draft → review → publish; cms/workflows.py) and can be
    scheduled with go-live/expiry dates."""

    class Kind(models.TextChoices):
        NEWS = "news", _("新闻")
        POLICY = "policy", _("政策解读")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.NEWS)
    date = models.DateField(_("日期"), default=dt.date.today)
    lead_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("题图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    intro = models.TextField(_("导语"), max_length=300, blank=True)
    body = StreamField(
        ContentStreamBlock(), blank=True, use_json_field=True, verbose_name=_("正文")
    )
    tags = ClusterTaggableManager(through=ArticlePageTag, blank=True, verbose_name=_("标签"))

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("kind"), FieldPanel("date"), FieldPanel("tags")], heading=_("基本信息")
        ),
        FieldPanel("lead_image"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    parent_page_types = ["cms.ProgrammeIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("文章")


# --- Training --------------------------------------------------------------------


class TrainingIndexPage(CachedViewRestrictionsMixin, Page):
    """All training courses, filterable by audience."""

    intro = RichTextField(_("简介"), blank=True, features=["bold", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["cms.CoursePage"]
    parent_page_types = ["cms.HomePage"]

    class Meta:
        verbose_name = _("培训栏目")

    def courses(self):
        return CoursePage.objects.child_of(self).live().order_by("path")


class CoursePage(CachedViewRestrictionsMixin, Page):
    """A course: its lessons are its child LessonPages, in the order editors
    arrange them in the page tree. A learner who completes every lesson
    (cms/learning.py) receives a certificate."""

    class Audience(models.TextChoices):
        FARMERS = "farmers", _("农户")
        COOP_MANAGERS = "coop_managers", _("合作社负责人")
        STATION_STAFF = "station_staff", _("服务站工作人员")
        CONSUMERS = "consumers", _("消费者")

    class Level(models.TextChoices):
        BEGINNER = "beginner", _("入门")
        INTERMEDIATE = "intermediate", _("进阶")
        ADVANCED = "advanced", _("提高")

    audience = models.CharField(
        _("面向"), max_length=20, choices=Audience.choices, default=Audience.FARMERS
    )
    level = models.CharField(
        _("难度"), max_length=20, choices=Level.choices, default=Level.BEGINNER
    )
    estimated_minutes = models.PositiveSmallIntegerField(
        _("预计学习时间（分钟）"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(6000)],
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("封面图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    intro = models.TextField(_("课程简介"), max_length=500)
    description = RichTextField(
        _("课程介绍"), blank=True, features=["h2", "h3", "bold", "link", "ol", "ul"]
    )

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("audience"), FieldPanel("level"), FieldPanel("estimated_minutes")],
            heading=_("课程信息"),
        ),
        FieldPanel("cover_image"),
        FieldPanel("intro"),
        FieldPanel("description"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("description"),
        index.FilterField("audience"),
    ]
    parent_page_types = ["cms.TrainingIndexPage"]
    subpage_types = ["cms.LessonPage"]

    class Meta:
        verbose_name = _("课程")

    def lessons(self):
        """The live, public lessons in tree order: what the course page lists
        and what completing the course means (a lesson restricted to a group
        would otherwise keep everyone else from finishing)."""
        return public_pages(LessonPage.objects.child_of(self).live()).order_by("path")


class LessonPage(CachedViewRestrictionsMixin, Page):
    """One lesson: text, images, a video (a Wagtail document played by the
    browser), downloads, and optionally a short multiple-choice quiz whose
    right answers stay on the server (QuizQuestion.correct is never sent
    to the browser)."""

    summary = models.TextField(_("本课要点"), max_length=300, blank=True)
    body = StreamField(LessonStreamBlock(), blank=True, use_json_field=True, verbose_name=_("正文"))
    pass_mark = models.PositiveSmallIntegerField(
        _("测验及格分（答对百分比）"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("pass_mark"), InlinePanel("questions", label=_("题目"))],
            heading=_("小测验（可选）"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("课时")

    @property
    def has_quiz(self) -> bool:
        return self.questions.exists()


class QuizQuestion(Orderable):
    """A multiple-choice question: its choices one per line, ``correct`` the
    1-based number of the right one."""

    lesson = ParentalKey(LessonPage, on_delete=models.CASCADE, related_name="questions")
    prompt = models.CharField(_("题目"), max_length=300)
    choices = models.TextField(_("选项（每行一个）"))
    correct = models.PositiveSmallIntegerField(
        _("正确选项（第几个）"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    explanation = models.CharField(_("解析（答完后显示）"), max_length=300, blank=True)

    panels = [
        FieldPanel("prompt"),
        FieldPanel("choices"),
        FieldPanel("correct"),
        FieldPanel("explanation"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("题目")

    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]

    def clean(self):
        from django.core.exceptions import ValidationError

        options = self.choice_list()
        if len(options) < 2:
            raise ValidationError({"choices": _("至少要有两个选项，每行一个。")})
        if len(options) > 8:
            raise ValidationError({"choices": _("最多八个选项。")})
        if self.correct and self.correct > len(options):
            raise ValidationError(
                {"correct": _("正确选项应在 1 到 %(n)s 之间。") % {"n": len(options)}}
            )


class LessonProgress(models.Model):
    """A learner has finished a lesson: marked done, or passed its quiz."""

    class Via(models.TextChoices):
        MARKED = "marked", _("学完标记")
        QUIZ = "quiz", _("测验通过")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="progress")
    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="progress")
    via = models.CharField(max_length=10, choices=Via.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学习记录")
        verbose_name_plural = _("学习记录")
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="cms_progress_once")]
        indexes = [models.Index(fields=["user", "course"])]


class QuizAttempt(models.Model):
    """One submission of a lesson's quiz. ``token`` comes from the form, so
    a double submission is one attempt."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="attempts")
    answers = models.JSONField(default=dict)
    correct = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("测验记录")
        verbose_name_plural = _("测验记录")
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        return round(self.correct * 100 / self.total) if self.total else 0


class Certificate(models.Model):
    """Issued once per learner and course when every lesson is done. The
    name and course title are kept as issued; ``code`` is what the public
    verification page looks up (cms/certificates.py makes and checks it)."""

    code = models.CharField(_("证书编号"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    course = models.ForeignKey(CoursePage, on_delete=models.PROTECT, related_name="certificates")
    name = models.CharField(_("学员姓名"), max_length=100)
    course_title = models.CharField(_("课程名称"), max_length=255)
    issued_at = models.DateTimeField(_("发证时间"), default=timezone.now)

    class Meta:
        verbose_name = _("结业证书")
        verbose_name_plural = _("结业证书")
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="cms_certificate_once")
        ]

    def __str__(self) -> str:
        return self.code


class TrainingSession(models.Model):
    """An offline training session a station's staff ran in the village,
    counted by the programme's statistics."""

    station = models.ForeignKey(
        "stations.Station", on_delete=models.PROTECT, related_name="training_sessions"
    )
    course = models.ForeignKey(
        CoursePage,
        verbose_name=_("课程"),
        on_delete=models.PROTECT,
        related_name="training_sessions",
    )
    held_on = models.DateField(_("培训日期"))
    attendees = models.PositiveIntegerField(
        _("参加人数"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    names = models.TextField(_("参加人姓名（可不填）"), blank=True, max_length=5000)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("线下培训")
        verbose_name_plural = _("线下培训")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attendees__gte=1) & models.Q(attendees__lte=500),
                name="cms_session_attendees_range",
            )
        ]


# --- Coverage and sales statistics --------------------------------------------------


class StatisticsPage(CachedViewRestrictionsMixin, Page):
    """The programme's public figures, district by district, read from the
    latest complete snapshot (cms/statistics.py computes them in a periodic
    task), with a CSV of the same figures. Editors may place it anywhere."""

    intro = RichTextField(_("说明"), blank=True, features=["bold", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("统计数据页")


class StatsSnapshot(models.Model):
    """One computation of the figures. Pages read only complete ones, so a
    computation under way (or failed) is never shown half-written."""

    started_at = models.DateTimeField(default=timezone.now)
    computed_at = models.DateTimeField(null=True, blank=True)
    complete = models.BooleanField(default=False, db_index=True)
    month_start = models.DateField()
    year_start = models.DateField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("统计快照")
        verbose_name_plural = _("统计快照")
        ordering = ["-computed_at", "-pk"]


class DistrictFigures(models.Model):
    """A district's figures in a snapshot (``code`` "12" is the city)."""

    snapshot = models.ForeignKey(StatsSnapshot, on_delete=models.CASCADE, related_name="rows")
    code = models.CharField(max_length=12)
    name = models.CharField(max_length=64)
    villages = models.PositiveIntegerField(default=0)
    villages_with_station = models.PositiveIntegerField(default=0)
    cooperatives_selling = models.PositiveIntegerField(default=0)
    orders_month = models.PositiveIntegerField(default=0)
    sales_month = models.BigIntegerField(default=0)  # fen
    orders_year = models.PositiveIntegerField(default=0)
    sales_year = models.BigIntegerField(default=0)  # fen
    course_completions = models.PositiveIntegerField(default=0)
    training_sessions = models.PositiveIntegerField(default=0)
    session_attendees = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "code"], name="cms_figures_once")
        ]
