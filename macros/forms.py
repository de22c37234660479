from __future__ import annotations

from typing import Any

from django import forms

from common.errors import DomainError
from common.users import UserLike
from tickets.services import tag_names_parse

from .models import Macro
from .selectors import queues_for_shared_macros


class MacroForm(forms.ModelForm):
    class Meta:
        model = Macro
        fields = ["name", "body", "queue", "set_status", "set_priority", "assign", "add_tags", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        labels = {"queue": "Shared with the queue"}

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queue = self.fields["queue"]
        queue.queryset = queues_for_shared_macros(user=user)  # type: ignore[attr-defined]
        queue.empty_label = "Nobody: a personal macro"  # type: ignore[attr-defined]
        queue.help_text = "Its agents can apply it; you can share with the queues you lead."

    def clean_add_tags(self) -> str:
        try:
            return ", ".join(tag_names_parse(self.cleaned_data["add_tags"]))
        except DomainError as error:
            raise forms.ValidationError(str(error)) from error
