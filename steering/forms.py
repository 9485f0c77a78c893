from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from actionplan.models import RAG
from portal.models import Office
from portal.templatetags.people import display_name

from .models import ActionItem, Meeting

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = 20_000


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["title", "date", "place", "agenda", "attendees"]
        widgets = {"date": DATE, "agenda": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, committee, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.committee = committee
        attendees = self.fields["attendees"]
        attendees.queryset = committee.members.order_by("last_name", "first_name", "username")
        attendees.required = False
        attendees.widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
        attendees.widget.choices = attendees.choices
        attendees.label_from_instance = display_name
        attendees.help_text = _("Type part of a name to narrow the list.")


# No rating is chosen for the committee: the recorder picks one.
RATING_CHOICES = [("", _("Choose a rating")), *RAG.choices]


class ReviewEditForm(forms.Form):
    prefix = "review"

    rating = forms.ChoiceField(label=_("Rating"), choices=RATING_CHOICES)
    assessment = forms.CharField(label=_("Assessment"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 4}))
    recommendations = forms.CharField(
        label=_("Recommendations"), max_length=TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, meeting=None, **kwargs):
        super().__init__(*args, **kwargs)


class ReviewForm(ReviewEditForm):
    # The meeting page holds several forms: prefixes keep their field ids apart.
    focus_area = forms.ModelChoiceField(label=_("Focus area"), queryset=None)
    # The signed figures shown beside the form for its focus area: those are frozen into the review.
    shown_figures = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["focus_area", "rating", "assessment", "recommendations"]

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        area = self.fields["focus_area"]
        area.queryset = meeting.committee.plan.focus_areas.order_by("order")
        area.label_from_instance = lambda choice: f"{choice.name} ({choice.code})"
        # Choosing another area brings its figures beside the form (htmx), those that will be frozen.
        area.widget.attrs.update({
            "hx-get": reverse("meeting-review-figures", args=[meeting.pk]),
            "hx-target": "#review-figures",
            "hx-swap": "outerHTML",
            "hx-trigger": "change",
        })  # fmt: skip


class DecisionForm(forms.Form):
    # The meeting page holds several forms: prefixes keep their field ids apart.
    prefix = "decision"

    text = forms.CharField(label=_("Decision"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    focus_area = forms.ModelChoiceField(label=_("Focus area (optional)"), queryset=None, required=False)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus_area"].queryset = meeting.committee.plan.focus_areas.order_by("order")


class ActionItemForm(forms.Form):
    # The meeting page holds several forms: prefixes keep their field ids apart.
    prefix = "item"

    description = forms.CharField(label=_("Action"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    owner_user = forms.ModelChoiceField(
        label=_("Owner (person)"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    owner_office = forms.ModelChoiceField(
        label=_("or owner (office)"), queryset=Office.objects.order_by("code"), required=False
    )
    due_on = forms.DateField(label=_("Due on"), widget=DATE)
    decision = forms.ModelChoiceField(label=_("Follows decision (optional)"), queryset=None, required=False)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = meeting.decisions.order_by("number")


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Follow-up note"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    state = forms.ChoiceField(label=_("State"), choices=ActionItem.State.choices)

    def __init__(self, *args, may_drop=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_drop:
            # Owners report progress; the committee's secretary or an officer drops an item (or takes one
            # up again). Leaving the state as it is, a note changes nothing else.
            self.fields["state"].required = False
            self.fields["state"].choices = [("", _("As it is"))] + [
                choice for choice in ActionItem.State.choices if choice[0] != ActionItem.State.DROPPED
            ]


class MinutesForm(forms.Form):
    # The meeting page holds several forms: prefixes keep their field ids apart.
    prefix = "minutes"

    minutes = forms.CharField(
        label=_("Minutes"), max_length=100_000, widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


class DeclineForm(forms.Form):
    """Why a co-chair declines what was submitted for signature."""

    prefix = "decline"

    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
        help_text=_("Sent to whoever submitted it, and kept in the history of signatures."),
    )
