from django import forms


class VipForm(forms.Form):
    vip = forms.ChoiceField(choices=[("set", "Mark VIP"), ("clear", "Clear the VIP flag")])
