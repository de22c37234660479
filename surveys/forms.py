from django import forms

from .models import CES_CHOICES, CES_QUESTION, CSAT_CHOICES, CSAT_QUESTION, SurveyResponse


class SurveyAnswerForm(forms.Form):
    csat = forms.TypedChoiceField(
        label=CSAT_QUESTION,
        choices=CSAT_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    ces = forms.TypedChoiceField(
        label=CES_QUESTION,
        choices=CES_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    via = forms.ChoiceField(
        choices=SurveyResponse.Via.choices, initial=SurveyResponse.Via.PERSON, widget=forms.HiddenInput
    )
