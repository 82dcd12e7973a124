"""How every form on the site is drawn: NL Design System (Utrecht) form fields.

Django renders ``{{ form }}`` with ``templates/forms/form.html`` and each field
with ``templates/forms/field.html``, so pages never hand-write field markup.
Widgets get the Utrecht classes for their kind here, in one place.
"""

from django import forms
from django.forms.renderers import TemplatesSetting

WIDGET_CLASSES = {
    forms.Textarea: "utrecht-textarea utrecht-textarea--html-textarea",
    forms.Select: "utrecht-select utrecht-select--html-select",
    forms.CheckboxInput: "utrecht-checkbox utrecht-checkbox--html-input",
    forms.RadioSelect: "utrecht-radio-button utrecht-radio-button--html-input",
    forms.FileInput: "rk-file-input",
}
TEXTBOX_CLASS = "utrecht-textbox utrecht-textbox--html-input"


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

    def render(self, template_name, context, request=None):
        form = context.get("form")
        if form is None and context.get("field") is not None:
            form = context["field"].form  # a single field drawn with as_field_group
        if isinstance(form, forms.BaseForm):
            for field in form.fields.values():
                widget = field.widget
                css = next(
                    (css for kind, css in WIDGET_CLASSES.items() if isinstance(widget, kind)),
                    TEXTBOX_CLASS if isinstance(widget, forms.widgets.Input) else "",
                )
                if css and "class" not in widget.attrs:
                    widget.attrs["class"] = css
        return super().render(template_name, context, request)
