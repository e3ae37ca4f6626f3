"""Form helpers: WTForms for the simple forms, domain errors mapped onto form fields.

Portal forms that feed a service (a campaign, a return...) validate in the service, like the
API does; `field_errors` turns its InvalidInput into messages shown next to each field.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from errors import DomainError


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])


def field_errors(error: DomainError) -> dict[str, list[str]]:
    """The messages of a domain error by field; the general message under '_form'."""
    errors: dict[str, list[str]] = {"_form": [error.message]}
    for name, messages in (error.fields or {}).items():
        errors[name] = _flatten(messages)
    return errors


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flatten(v)]
    if isinstance(messages, list | tuple):
        return [m for item in messages for m in _flatten(item)]
    return [str(messages)]
