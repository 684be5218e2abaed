"""The web pages' words in English and Spanish.

A plain dictionary rather than gettext catalogues: nothing to extract or compile at build time,
and a missing Spanish entry falls back to English (a test checks both tables have the same keys).
"""

from __future__ import annotations

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app_name": "leadflow",
        "sign_in": "Sign in",
        "sign_in_intro": "Sign in with your work email and password.",
        "email": "Email",
        "password": "Password",
        "sign_out": "Sign out",
        "wrong_credentials": "The email or password is wrong.",
        "account_locked": (
            "Too many wrong passwords: this account is locked for a while. "
            "Try again later or ask an administrator to reset the password."
        ),
        "try_again": "The sign-in could not be completed just now; try again in a moment.",
        "forbidden_title": "This form has expired",
        "forbidden_text": (
            "The form was not sent from this site or has expired. "
            "Reload the page and send it again."
        ),
        "back_to_sign_in": "Back to sign-in",
        "home": "Home",
        "signed_in_as": "Signed in as",
        "roles": "Roles",
        "no_roles": "No roles",
        "api_docs": "API documentation",
        "error_heading": "There is a problem",
    },
    "es": {
        "app_name": "leadflow",
        "sign_in": "Iniciar sesión",
        "sign_in_intro": "Inicie sesión con su correo electrónico de trabajo y su contraseña.",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "sign_out": "Cerrar sesión",
        "wrong_credentials": "El correo electrónico o la contraseña no son correctos.",
        "account_locked": (
            "Demasiadas contraseñas incorrectas: esta cuenta está bloqueada durante un tiempo. "
            "Vuelva a intentarlo más tarde o pida a un administrador que restablezca la contraseña."
        ),
        "try_again": "No se pudo iniciar la sesión en este momento; vuelva a intentarlo en un momento.",
        "forbidden_title": "Este formulario ha caducado",
        "forbidden_text": (
            "El formulario no se envió desde este sitio o ha caducado. "
            "Vuelva a cargar la página y envíelo de nuevo."
        ),
        "back_to_sign_in": "Volver a iniciar sesión",
        "home": "Inicio",
        "signed_in_as": "Sesión iniciada como",
        "roles": "Roles",
        "no_roles": "Sin roles",
        "api_docs": "Documentación de la API",
        "error_heading": "Hay un problema",
    },
}


def language_from_header(accept_language: str | None) -> str:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 §12.5.4); English by default."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        # Highest weight wins; on a tie the first listed (strictly greater keeps the earlier one).
        if 0.0 < q <= 1.0 and q > best_q:
            best, best_q = primary, q
    return best


def messages(language: str) -> dict[str, str]:
    """The words of a language, English for any key it lacks."""
    return {**MESSAGES[DEFAULT_LANGUAGE], **MESSAGES.get(language, {})}
