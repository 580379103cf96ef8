from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cooperatives.models import Cooperative

Status = Cooperative.Status


class ReviewActions:
    """What staff may do to a cooperative in each status, and the status it
    leads to. Rejecting and suspending need a reason the cooperative sees."""

    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"

    LABELS = {
        APPROVE: _("通过审核"),
        REJECT: _("驳回申请"),
        SUSPEND: _("暂停销售"),
        REINSTATE: _("恢复销售"),
    }
    TARGET = {
        APPROVE: Status.VERIFIED,
        REJECT: Status.REJECTED,
        SUSPEND: Status.SUSPENDED,
        REINSTATE: Status.VERIFIED,
    }
    NEEDS_REASON = {REJECT, SUSPEND}
    BY_STATUS = {
        Status.APPLIED: (APPROVE, REJECT),
        Status.VERIFIED: (SUSPEND,),
        Status.SUSPENDED: (REINSTATE,),
        Status.REJECTED: (),
    }

    @classmethod
    def for_status(cls, status: str) -> tuple[str, ...]:
        return cls.BY_STATUS.get(status, ())


class ReviewActionForm(forms.Form):
    action = forms.ChoiceField(choices=list(ReviewActions.LABELS.items()))
    reason = forms.CharField(
        label=_("原因"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("驳回或暂停时必填，申请人或合作社会看到这段文字。"),
    )

    def __init__(self, *args: Any, cooperative: Cooperative, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cooperative = cooperative
        allowed = ReviewActions.for_status(cooperative.status)
        self.fields["action"].choices = [(a, ReviewActions.LABELS[a]) for a in allowed]

    def clean_reason(self) -> str:
        return self.cleaned_data.get("reason", "").strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("action") in ReviewActions.NEEDS_REASON and not cleaned.get("reason"):
            self.add_error(
                "reason",
                forms.ValidationError(_("请填写原因，申请人或合作社会看到它。"), code="required"),
            )
        return cleaned
