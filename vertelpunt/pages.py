"""Plain pages: home and the accessibility statement; Dutch labels used across templates."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

LABELS = {
    "status": {
        "pending": "wordt geanonimiseerd",
        "preview": "wacht op jouw controle",
        "confirmed": "bevestigd",
        "withdrawn": "ingetrokken",
    },
    "entity": {
        "PERSOON": "naam",
        "ADRES": "adres",
        "POSTCODE": "postcode",
        "TELEFOON": "telefoonnummer",
        "EMAIL": "e-mailadres",
        "URL": "webadres",
        "BSN": "BSN",
        "IBAN": "rekeningnummer",
        "KENTEKEN": "kenteken",
        "DATUM": "datum",
        "LEEFTIJD": "leeftijd",
        "DOSSIERNUMMER": "dossiernummer",
        "INSTELLING": "school of instelling",
    },
    "signifier_difference": ("het gezin zelf", "de professional"),
    "signifier_outcome": ("slechter", "beter"),
}


async def home(request: Request):
    return request.app.state.templates.TemplateResponse(request, "home.html", {})


async def health(request: Request):
    """For load balancers and benchmarks: the app answers, and whether the start-up warm-up
    of the research views is done. Says nothing about the data."""
    warming = getattr(request.app.state, "warming", None)
    return JSONResponse({"ok": True, "warm": warming is None or warming.done()})


async def accessibility(request: Request):
    return request.app.state.templates.TemplateResponse(request, "accessibility.html", {})
