"""/station/training/: the offline training sessions the station ran
(线下培训) and the form to record one. The rules are in
cms/training_sessions.py; the list is the station's own sessions only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from cms import training_sessions
from stations.access import StationPortalMixin

PER_PAGE = 20


class CourseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.title


class TrainingSessionForm(forms.Form):
    """Parses what was typed; cms.training_sessions.record_session decides
    what may be recorded (its messages land on the fields)."""

    course = CourseChoiceField(
        label=gettext_lazy("课程"),
        queryset=training_sessions.live_courses(),
        empty_label=gettext_lazy("请选择课程"),
        error_messages={
            "required": gettext_lazy("请选择一门已发布的课程。"),
            "invalid_choice": gettext_lazy("请选择一门已发布的课程。"),
        },
    )
    held_on = forms.DateField(
        label=gettext_lazy("培训日期"),
        error_messages={
            "required": gettext_lazy("请填写培训日期。"),
            "invalid": gettext_lazy("日期格式不对，请按 2025-03-08 这样填写。"),
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    attendees = forms.CharField(
        label=gettext_lazy("参加人数"),
        error_messages={"required": gettext_lazy("请填写参加人数。")},
        help_text=gettext_lazy("1 到 500 人。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    names = forms.CharField(
        label=gettext_lazy("参加人姓名（可不填）"),
        required=False,
        help_text=gettext_lazy("每行一个姓名。"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    note = forms.CharField(
        label=gettext_lazy("备注（可不填）"),
        required=False,
        max_length=training_sessions.MAX_NOTE_LENGTH,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["held_on"].widget.attrs.update(
            max=today.isoformat(), min=training_sessions.FIRST_DAY.isoformat()
        )
        if not self.is_bound:
            self.initial.setdefault("held_on", today)


class TrainingView(StationPortalMixin, TemplateView):
    template_name = "stations/portal/training.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        sessions = training_sessions.station_sessions(self.station)
        page = Paginator(sessions, PER_PAGE).get_page(self.request.GET.get("page"))
        totals = sessions.aggregate(count=Count("pk"), people=Sum("attendees"))
        ctx.update(
            form=kwargs.get("form") or TrainingSessionForm(),
            sessions=page.object_list,
            page_obj=page,
            session_count=totals["count"] or 0,
            attendee_count=totals["people"] or 0,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        form = TrainingSessionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = training_sessions.record_session(
                    self.station,
                    request.user,
                    course=data["course"],
                    held_on=data["held_on"],
                    attendees=data["attendees"],
                    names=data["names"],
                    note=data["note"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("已记录：%(day)s《%(course)s》，%(n)s 人参加。")
                    % {
                        "day": session.held_on.strftime("%Y-%m-%d"),
                        "course": session.course.title,
                        "n": session.attendees,
                    },
                )
                return redirect("station:training")
        return self.render_to_response(self.get_context_data(form=form), status=400)
