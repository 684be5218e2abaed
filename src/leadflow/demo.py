"""Demo data: about forty leads in Spanish and English, through every step of the lead lifecycle.

The data is a tuple of plain dicts (``DEMO_LEADS``); one loop turns each into records, always
through the services the app itself uses (create, add a note, qualify, disqualify, reactivate), so
the demo shows exactly what a seller would get and re-implements no business rule. The only
direct row edits are the ones no service offers: backdating ``created_at`` (so that the "opened this
week" and "opened last week" views have content) and the open status reason *Contacted*.

Loading twice adds nothing the second time:

* Campaigns are created here (there is no campaign service), with deterministic ids
  (``uuid5(DEMO_NAMESPACE, key)``); an existing campaign with the same code is reused.
* Leads cannot get deterministic ids: ``create_lead`` always draws ``uuid4()``, and changing a
  primary key after the insert would be a hack around the service. So a demo lead is recognised by
  its natural key, the (topic, last name) pair -- both required fields, unique within the demo
  data (a test checks it). Notes, accounts, contacts and opportunities hang off their lead, so
  they are created only together with it.
* Each lead is loaded in its own unit of work (the lead, its notes and its lifecycle steps): a
  lead is either completely there or not at all, and a run interrupted halfway is completed by
  the next one. (Two loads running at the very same moment are not guarded against on
  PostgreSQL; ``serve`` loads the demo only on the first start.)
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from leadflow.activity.models import RegardingTable
from leadflow.activity.service import AttachmentUpload, add_note
from leadflow.db import utcnow
from leadflow.duplicates.models import DuplicateRule
from leadflow.duplicates.rules import RuleCreate, create_rule, publish_rule
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.schemas import LeadCreate, QualifyOptions
from leadflow.leads.service import create_lead, disqualify_lead, qualify_lead, reactivate_lead
from leadflow.leads.views import start_of_week
from leadflow.organisation.models import Campaign
from leadflow.schemas import parse
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.models import BusinessUnit, User
from leadflow.security.service import create_business_unit, create_user
from leadflow.uow import Database, UnitOfWork

DEMO_NAMESPACE = uuid.UUID("6f1d3c1e-4c7a-5b8e-9d2f-0a1b2c3d4e5f")

# The default attachment limit of the settings; the demo's files are a few hundred bytes.
MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024

# ----------------------------------------------------------------------------------------------
# data

CAMPAIGNS: tuple[dict[str, str], ...] = (
    {
        "key": "campaign-feria-oficina",
        "code": "FERIA-OFICINA",
        "name": "Feria Internacional del Mobiliario de Oficina",
    },
    {
        "key": "campaign-crm-webinars",
        "code": "CRM-WEBINARS",
        "name": "Webinar series: CRM for growing sales teams",
    },
)

# Attachments: (file name, MIME type, text content).
_RESUMEN_FERIA = (
    "resumen-reunion-feria.txt",
    "text/plain",
    "Resumen de la reunión en la Feria del Mobiliario de Oficina\n"
    "Asistentes: Lucía Fernández (Grupo Alcázar Seguros), nuestro equipo comercial.\n"
    "- Necesitan 120 sillas ergonómicas para la sede de Castellana.\n"
    "- Prefieren tapizado en tela gris y reposabrazos regulables.\n"
    "- Decisión en comité; presupuesto aprobado para este trimestre.\n"
    "Próximos pasos: enviar muestras y propuesta antes del viernes.\n",
)
_LISTA_PRECIOS = (
    "lista-precios-mobiliario.csv",
    "text/csv",
    "referencia,descripcion,precio_unitario_mxn,cantidad\n"
    "SIL-ERG-200,Silla ergonómica malla,5890.00,90\n"
    "MES-OP-160,Mesa operativa 160x80,7450.00,90\n"
    "ARM-BAJ-80,Armario bajo con cerradura,3920.00,30\n"
    "SAL-REU-12,Mesa de reuniones 12 personas,28900.00,2\n",
)
_REQUISITOS_VIDEO = (
    "requisitos-videoconferencia.txt",
    "text/plain",
    "Requisitos de la clínica para videoconferencia\n"
    "- 8 salas: 5 pequeñas (4 personas), 3 medianas (10 personas).\n"
    "- Compatible con Teams y Zoom; cámara con encuadre automático.\n"
    "- Instalación fuera del horario de consultas.\n",
)
_MEETING_SUMMARY = (
    "meeting-summary.txt",
    "text/plain",
    "Discovery call with Bennett & Hale Logistics\n"
    "Attendees: Oliver Bennett (Sales Director), Priya Shah (Sales Ops).\n"
    "- 25 sales reps across Manchester and Liverpool, pipeline kept in spreadsheets today.\n"
    "- Must integrate with Outlook; mobile access for reps on the road.\n"
    "- Budget approved; go-live wanted before the next quarter.\n"
    "Next steps: sandbox access and a pricing proposal.\n",
)
_PRICE_LIST = (
    "price-list.csv",
    "text/csv",
    "sku,description,unit_price_eur,quantity\n"
    "CHR-ERG-300,Ergonomic task chair (mesh back),289.00,60\n"
    "CHR-VIS-100,Stackable visitor chair,79.00,20\n"
    "DSK-SIT-160,Sit-stand desk 160x80,649.00,30\n",
)
_DESK_QUANTITIES = (
    "desk-quantities.csv",
    "text/csv",
    "floor,team,standing_desks,monitor_arms\n"
    "3,Platform,24,48\n"
    "4,Mobile,18,36\n"
    "4,QA,12,12\n",
)
_PROPUESTA_SUCURSALES = (
    "alcance-sucursales.txt",
    "text/plain",
    "Alcance revisado del proyecto de sucursales\n"
    "- Originalmente: 3 sucursales en Monterrey.\n"
    "- Ahora: 5 sucursales (se suman San Pedro Garza García y Apodaca).\n"
    "- El cliente pide recalificar con el nuevo presupuesto.\n",
)

# Each lead: "lead" holds the fields as an API client would send them; "opened" is
# (weeks ago, day of that week, hour) -- week 0 is the current week; "campaign" names a
# campaign by key; "notes" are added while the lead is open; "then" lists the lifecycle steps
# (see STEPS); "opportunity_notes" go on the opportunity the qualification created.
DEMO_LEADS: tuple[dict[str, Any], ...] = (
    # ------------------------------------------------------------------ Spanish-speaking leads
    {
        "lead": {
            "topic": "Renovación de 120 sillas de oficina",
            "first_name": "Lucía",
            "last_name": "Fernández Ruiz",
            "job_title": "Responsable de Compras",
            "company_name": "Grupo Alcázar Seguros",
            "email": "lucia.fernandez@grupoalcazar.example",
            "business_phone": "+34 915 550 142",
            "website": "https://www.grupoalcazar.example",
            "address_line1": "Paseo de la Castellana 95",
            "address_city": "Madrid",
            "address_postal_code": "28046",
            "address_country": "España",
            "lead_source": "trade_show",
            "rating": "hot",
            "currency": "EUR",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "28000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
            "decision_maker": False,
            "need": "must_have",
            "qualification_comments": (
                "Sustituyen todas las sillas de la sede antes del verano; decide el comité de "
                "compras."
            ),
        },
        "campaign": "campaign-feria-oficina",
        "opened": (4, 1, 10),
        "notes": (
            {
                "title": "Reunión en la feria",
                "body": "Muy interesada en el modelo de malla. Pide muestras para la oficina central.",
                "attachment": _RESUMEN_FERIA,
            },
            {
                "title": "Muestras entregadas",
                "body": "Dejamos dos sillas de muestra en recepción durante una semana.",
            },
        ),
        "then": ("qualify",),
        "opportunity_notes": (
            {
                "title": "Propuesta enviada",
                "body": "Propuesta de 120 sillas con 5 años de garantía; esperan respuesta del comité.",
            },
        ),
    },
    {
        "lead": {
            "topic": "Licencias CRM para el equipo comercial",
            "first_name": "Javier",
            "last_name": "Morales",
            "job_title": "Director Comercial",
            "company_name": "Distribuciones Turia S.L.",
            "email": "jmorales@distribucionesturia.example",
            "business_phone": "+34 963 550 218",
            "website": "https://distribucionesturia.example",
            "address_city": "Valencia",
            "address_country": "España",
            "lead_source": "web",
            "rating": "warm",
            "currency": "EUR",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "18000.00",
            "budget_status": "may_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "should_have",
            "qualification_comments": "45 comerciales; hoy trabajan con hojas de cálculo compartidas.",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (0, 0, 9),
        "notes": (
            {
                "title": "Llamada de descubrimiento",
                "body": (
                    "Quiere ver la integración con el correo y la app móvil. Demo agendada "
                    "para el jueves."
                ),
            },
        ),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Mobiliario para nueva oficina en Polanco",
            "first_name": "Mariana",
            "last_name": "López Hernández",
            "job_title": "Gerente de Administración",
            "company_name": "Logística Azteca S.A. de C.V.",
            "email": "mariana.lopez@logisticaazteca.example",
            "business_phone": "+52 55 5550 3381",
            "mobile_phone": "+52 55 5550 9120",
            "website": "https://logisticaazteca.example",
            "address_line1": "Av. Presidente Masaryk 111",
            "address_city": "Ciudad de México",
            "address_state_or_province": "CDMX",
            "address_postal_code": "11560",
            "address_country": "México",
            "lead_source": "external_referral",
            "rating": "hot",
            "currency": "MXN",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "950000.00",
            "budget_status": "will_buy",
            "purchase_process": "committee",
            "decision_maker": True,
            "need": "must_have",
            "qualification_comments": (
                "Mudanza a la nueva oficina en dos meses; 90 puestos de trabajo completos."
            ),
        },
        "opened": (3, 2, 16),
        "notes": (
            {
                "title": "Lista de precios enviada",
                "body": "Se envió la lista de precios con descuento por volumen.",
                "attachment": _LISTA_PRECIOS,
            },
        ),
        "then": ("qualify",),
        "opportunity_notes": (
            {
                "title": "Visita a la obra",
                "body": "Revisamos planos con el arquitecto; confirmar entregas por planta.",
            },
        ),
    },
    {
        "lead": {
            "topic": "Puestos de trabajo para centro de atención al cliente",
            "first_name": "Diego",
            "last_name": "Ramírez",
            "job_title": "Jefe de Operaciones",
            "company_name": "Contacto Andino S.A.S.",
            "email": "diego.ramirez@contactoandino.example",
            "business_phone": "+57 601 555 0147",
            "address_city": "Bogotá",
            "address_country": "Colombia",
            "lead_source": "advertisement",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "60000.00",
            "budget_status": "may_buy",
            "purchase_process": "committee",
            "need": "should_have",
        },
        "opened": (0, 1, 11),
    },
    {
        "lead": {
            "topic": "Portátiles para 35 consultores",
            "first_name": "Sofía",
            "last_name": "Martínez",
            "job_title": "Directora Financiera",
            "company_name": "Estudio Contable Rivadavia",
            "email": "smartinez@estudiorivadavia.example",
            "business_phone": "+54 11 5550 4412",
            "address_city": "Buenos Aires",
            "address_country": "Argentina",
            "lead_source": "web",
            "rating": "cold",
            "currency": "USD",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "52000.00",
            "budget_status": "can_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "must_have",
        },
        "opened": (4, 3, 12),
        "notes": (
            {
                "title": "Decisión del cliente",
                "body": "Eligieron a otro proveedor por precio; volver a contactar en la próxima renovación.",
            },
        ),
        "then": ("lost",),
    },
    {
        "lead": {
            "topic": "Alta como cliente para pedidos recurrentes de material",
            "first_name": "Carmen",
            "last_name": "Ortega",
            "job_title": "Directora de Recursos Humanos",
            "company_name": "Bodegas Ribera Alta",
            "email": "carmen.ortega@bodegasriberaalta.example",
            "business_phone": "+34 983 550 671",
            "website": "https://bodegasriberaalta.example",
            "address_city": "Valladolid",
            "address_country": "España",
            "lead_source": "word_of_mouth",
            "rating": "warm",
            "currency": "EUR",
            "need": "good_to_have",
            "qualification_comments": (
                "Sin proyecto concreto todavía: quieren estar dados de alta para pedidos "
                "puntuales."
            ),
        },
        "opened": (3, 0, 9),
        # Qualified into an account and a contact only: no deal yet.
        "then": ("qualify_without_opportunity",),
    },
    {
        "lead": {
            "topic": "Silla ergonómica y mesa elevable para teletrabajo",
            "first_name": "Pablo",
            "last_name": "Navarro",
            "job_title": "Diseñador gráfico autónomo",
            "email": "pablo.navarro@correo.example",
            "mobile_phone": "+34 655 550 309",
            "address_city": "Sevilla",
            "address_country": "España",
            "lead_source": "web",
            "rating": "cold",
            "currency": "EUR",
            "purchase_timeframe": "immediate",
            "budget_amount": "1200.00",
            "budget_status": "will_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "must_have",
        },
        "opened": (2, 5, 18),
        # No company: qualifying makes a contact, and the opportunity's customer is that contact.
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Sistema de videoconferencia para 8 salas",
            "first_name": "Andrés",
            "last_name": "Gutiérrez",
            "job_title": "Director de TI",
            "company_name": "Clínica Santa Lucía",
            "email": "andres.gutierrez@clinicasantalucia.example",
            "business_phone": "+57 604 555 0193",
            "address_city": "Medellín",
            "address_country": "Colombia",
            "lead_source": "seminar",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "this_year",
            "budget_amount": "40000.00",
            "budget_status": "no_committed_budget",
            "purchase_process": "committee",
            "decision_maker": False,
            "need": "should_have",
        },
        "opened": (1, 2, 15),
        "notes": (
            {
                "title": "Requisitos técnicos",
                "body": "Nos enviaron sus requisitos por correo; los adjunto.",
                "attachment": _REQUISITOS_VIDEO,
            },
        ),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Renovación del contrato de soporte anual",
            "first_name": "Valentina",
            "last_name": "Rojas",
            "job_title": "Coordinadora de Sistemas",
            "company_name": "Instituto Tecnológico del Valle",
            "email": "vrojas@itvalle.example",
            "business_phone": "+57 602 555 0118",
            "address_city": "Cali",
            "address_country": "Colombia",
            "lead_source": "other",
            "rating": "warm",
            "currency": "USD",
        },
        "opened": (1, 4, 10),
    },
    {
        "lead": {
            "topic": "Mesas elevables para el departamento de ingeniería",
            "first_name": "Alejandro",
            "last_name": "Torres",
            "job_title": "Ingeniero Jefe",
            "company_name": "Aeronáutica Sevillana S.L.",
            "email": "atorres@aeronauticasevillana.example",
            "business_phone": "+34 954 550 882",
            "address_city": "Sevilla",
            "address_country": "España",
            "lead_source": "trade_show",
            "rating": "cold",
            "currency": "EUR",
        },
        "campaign": "campaign-feria-oficina",
        "opened": (4, 1, 17),
        "notes": (
            {
                "title": "Sin respuesta",
                "body": (
                    "Tres llamadas y dos correos sin respuesta; el teléfono de la tarjeta "
                    "no es correcto."
                ),
            },
        ),
        "then": ("cannot_contact",),
    },
    {
        "lead": {
            "topic": "Licencias CRM y migración de datos desde Excel",
            "first_name": "Isabel",
            "last_name": "Castro",
            "job_title": "Gerente General",
            "company_name": "Inmobiliaria Sierras de Córdoba",
            "email": "isabel.castro@inmosierras.example",
            "business_phone": "+54 351 555 0274",
            "address_city": "Córdoba",
            "address_country": "Argentina",
            "lead_source": "web",
            "rating": "cold",
            "currency": "USD",
            "purchase_timeframe": "unknown",
            "budget_status": "no_committed_budget",
            "need": "good_to_have",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (3, 4, 11),
        "then": ("no_longer_interested",),
    },
    {
        "lead": {
            "topic": "Amueblamiento de sucursales en Monterrey",
            "first_name": "Fernando",
            "last_name": "Ruiz Díaz",
            "job_title": "Director de Expansión",
            "company_name": "Financiera Monterrey Norte",
            "email": "fernando.ruiz@finmtynorte.example",
            "business_phone": "+52 81 5550 2299",
            "website": "https://finmtynorte.example",
            "address_city": "Monterrey",
            "address_state_or_province": "Nuevo León",
            "address_country": "México",
            "lead_source": "partner",
            "rating": "hot",
            "currency": "MXN",
            "purchase_timeframe": "this_year",
            "budget_amount": "2400000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
            "decision_maker": True,
            "need": "must_have",
            "qualification_comments": "Tres sucursales nuevas; el consejo aprueba en la próxima sesión.",
        },
        "opened": (2, 1, 13),
        "notes": (
            {
                "title": "Cambio de alcance",
                "body": (
                    "El cliente amplía el proyecto a cinco sucursales; reabrimos el lead para "
                    "recalificarlo."
                ),
                "attachment": _PROPUESTA_SUCURSALES,
            },
        ),
        # Qualified, then reopened: open again as New, its opportunity still linked.
        "then": ("qualify", "reactivate"),
    },
    {
        "lead": {
            "topic": "Sillas para auditorio de 300 plazas",
            "first_name": "Gabriela",
            "last_name": "Vargas",
            "job_title": "Responsable de Eventos",
            "company_name": "Centro de Convenciones Tapatío",
            "email": "gvargas@convencionestapatio.example",
            "business_phone": "+52 33 5550 7761",
            "address_city": "Guadalajara",
            "address_state_or_province": "Jalisco",
            "address_country": "México",
            "lead_source": "public_relations",
            "rating": "warm",
            "currency": "MXN",
            "budget_amount": "780000.00",
            "budget_status": "may_buy",
        },
        "opened": (2, 3, 10),
        "notes": (
            {
                "title": "Proyecto cancelado",
                "body": "La remodelación del auditorio se pospone indefinidamente.",
            },
        ),
        "then": ("canceled",),
    },
    {
        "lead": {
            "topic": "Armarios y taquillas para vestuarios del personal",
            "first_name": "Raúl",
            "last_name": "Jiménez",
            "job_title": "Jefe de Mantenimiento",
            "company_name": "Hotel Costa Brava Mar",
            "email": "mantenimiento@hotelcostabravamar.example",
            "business_phone": "+34 972 550 436",
            "address_city": "Girona",
            "address_country": "España",
            "lead_source": "advertisement",
            "rating": "cold",
            "currency": "EUR",
        },
        "opened": (1, 0, 12),
    },
    {
        "lead": {
            "topic": "Licencias CRM para 12 agentes inmobiliarios",
            "first_name": "Elena",
            "last_name": "Domínguez",
            "job_title": "Socia Directora",
            "company_name": "Domínguez & Asociados Inmobiliaria",
            "email": "elena@dominguezasociados.example",
            "business_phone": "+34 952 550 713",
            "website": "https://dominguezasociados.example",
            "address_city": "Málaga",
            "address_country": "España",
            "lead_source": "employee_referral",
            "rating": "hot",
            "currency": "EUR",
            "purchase_timeframe": "immediate",
            "budget_amount": "6500.00",
            "budget_status": "will_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "must_have",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (1, 1, 9),
        "notes": (
            {
                "title": "Demo realizada",
                "body": "Le gustó el seguimiento de visitas a inmuebles. Quiere empezar el mes que viene.",
            },
        ),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Equipamiento para coworking de 80 puestos",
            "first_name": "Martín",
            "last_name": "Acosta",
            "job_title": "Fundador",
            "company_name": "Cowork Palermo",
            "email": "martin@coworkpalermo.example",
            "business_phone": "+54 11 5550 8830",
            "address_city": "Buenos Aires",
            "address_country": "Argentina",
            "lead_source": "word_of_mouth",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "45000.00",
            "budget_status": "may_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "should_have",
        },
        "opened": (0, 2, 15),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Pantallas interactivas para 14 aulas",
            "first_name": "Paula",
            "last_name": "Herrera",
            "job_title": "Directora Académica",
            "company_name": "Colegio Bilingüe Los Andes",
            "email": "pherrera@colegiolosandes.example",
            "business_phone": "+56 2 2555 0164",
            "address_city": "Santiago",
            "address_country": "Chile",
            "lead_source": "seminar",
            "rating": "warm",
            "currency": "USD",
        },
        "opened": (0, 3, 10),
    },
    {
        "lead": {
            "topic": "Renovación de 200 sillas del call center",
            "first_name": "Luis Fernando",
            "last_name": "Mejía",
            "job_title": "Gerente de Compras",
            "company_name": "Teleservicios del Caribe",
            "email": "lfmejia@teleserviciosdelcaribe.example",
            "business_phone": "+57 605 555 0152",
            "address_city": "Barranquilla",
            "address_country": "Colombia",
            "lead_source": "trade_show",
            "rating": "hot",
            "currency": "USD",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "38000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
            "decision_maker": False,
            "need": "must_have",
            "qualification_comments": "Sillas 24/7 con certificación para uso intensivo.",
        },
        "campaign": "campaign-feria-oficina",
        "opened": (2, 2, 11),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Consultoría para implantar un CRM",
            "first_name": "Marta",
            "last_name": "Vidal",
            "job_title": "Directora de Marketing",
            "company_name": "Cervezas Artesanas Montseny",
            "email": "marta.vidal@cervezasmontseny.example",
            "business_phone": "+34 938 550 245",
            "address_city": "Barcelona",
            "address_country": "España",
            "lead_source": "web",
            "rating": "cold",
            "currency": "EUR",
        },
        "opened": (3, 3, 16),
        "notes": (
            {"title": "Sin interés", "body": "Han decidido seguir con su herramienta actual este año."},
        ),
        "then": ("no_longer_interested",),
    },
    {
        "lead": {
            "topic": "Mesas de reuniones para la nueva sede",
            "first_name": "Ricardo",
            "last_name": "Paredes",
            "job_title": "Gerente General",
            "company_name": "Constructora Paredes e Hijos",
            "email": "rparedes@constructoraparedes.example",
            "business_phone": "+51 1 555 0187",
            "address_city": "Lima",
            "address_country": "Perú",
            "lead_source": "external_referral",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "this_year",
            "budget_amount": "15000.00",
        },
        "opened": (1, 5, 10),
    },
    # ------------------------------------------------------------------ English-speaking leads
    {
        "lead": {
            "topic": "CRM licences for a 25-seat sales team",
            "first_name": "Oliver",
            "last_name": "Bennett",
            "job_title": "Sales Director",
            "company_name": "Bennett & Hale Logistics Ltd",
            "email": "oliver.bennett@bennetthale.example",
            "business_phone": "+44 161 496 0321",
            "website": "https://www.bennetthale.example",
            "address_line1": "12 Quay Street",
            "address_city": "Manchester",
            "address_postal_code": "M3 3HN",
            "address_country": "United Kingdom",
            "lead_source": "seminar",
            "rating": "hot",
            "currency": "GBP",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "14000.00",
            "budget_status": "will_buy",
            "purchase_process": "committee",
            "decision_maker": True,
            "need": "must_have",
            "qualification_comments": "Moving off spreadsheets; Outlook integration is a must.",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (4, 2, 14),
        "notes": (
            {
                "title": "Discovery call",
                "body": "Good fit. Summary of the call attached.",
                "attachment": _MEETING_SUMMARY,
            },
            {"title": "Sandbox requested", "body": "Priya from Sales Ops wants a sandbox for three reps."},
        ),
        "then": ("qualify",),
        "opportunity_notes": (
            {
                "title": "Pricing proposal sent",
                "body": "Annual plan, 25 seats, onboarding included. Decision expected end of month.",
            },
        ),
    },
    {
        "lead": {
            "topic": "Ergonomic chairs for the new Dublin office",
            "first_name": "Aoife",
            "last_name": "Murphy",
            "job_title": "Office Manager",
            "company_name": "Liffey Analytics",
            "email": "aoife.murphy@liffeyanalytics.example",
            "business_phone": "+353 1 555 0148",
            "address_city": "Dublin",
            "address_country": "Ireland",
            "lead_source": "web",
            "rating": "warm",
            "currency": "EUR",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "19000.00",
            "budget_status": "may_buy",
            "purchase_process": "individual",
            "decision_maker": False,
            "need": "should_have",
        },
        "opened": (1, 3, 11),
        "notes": (
            {
                "title": "Price list sent",
                "body": "Sent our standard price list; she will share it with the finance team.",
                "attachment": _PRICE_LIST,
            },
        ),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Standing desks for the engineering floors",
            "first_name": "Ethan",
            "last_name": "Walker",
            "job_title": "VP of Engineering",
            "company_name": "Brightline Software Inc.",
            "email": "ethan.walker@brightline.example",
            "business_phone": "+1 512-555-0134",
            "website": "https://brightline.example",
            "address_line1": "500 W 2nd St",
            "address_city": "Austin",
            "address_state_or_province": "TX",
            "address_postal_code": "78701",
            "address_country": "United States",
            "lead_source": "advertisement",
            "rating": "hot",
            "currency": "USD",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "85000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
            "decision_maker": True,
            "need": "must_have",
        },
        "opened": (3, 1, 15),
        "notes": (
            {
                "title": "Quantities per floor",
                "body": "Ethan shared the desk count per team.",
                "attachment": _DESK_QUANTITIES,
            },
        ),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Conference room AV upgrade",
            "first_name": "Sarah",
            "last_name": "Thompson",
            "job_title": "IT Manager",
            "company_name": "Thames Valley Housing Trust",
            "email": "s.thompson@tvhousing.example",
            "business_phone": "+44 118 496 0572",
            "address_city": "Reading",
            "address_country": "United Kingdom",
            "lead_source": "trade_show",
            "rating": "cold",
            "currency": "GBP",
        },
        "opened": (4, 4, 10),
        "then": ("cannot_contact",),
    },
    {
        "lead": {
            "topic": "CRM pilot for five account managers",
            "first_name": "Michael",
            "last_name": "O'Brien",
            "job_title": "Managing Director",
            "company_name": "O'Brien Engineering",
            "email": "michael@obrienengineering.example",
            "business_phone": "+353 21 555 0190",
            "address_city": "Cork",
            "address_country": "Ireland",
            "lead_source": "web",
            "rating": "warm",
            "currency": "EUR",
            "purchase_timeframe": "next_quarter",
            "need": "good_to_have",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (0, 4, 16),
    },
    {
        "lead": {
            "topic": "Office fit-out for 60 staff",
            "first_name": "Emily",
            "last_name": "Carter",
            "job_title": "Operations Director",
            "company_name": "Carter Wells Accountancy",
            "email": "emily.carter@carterwells.example",
            "business_phone": "+44 113 496 0815",
            "address_city": "Leeds",
            "address_country": "United Kingdom",
            "lead_source": "external_referral",
            "rating": "warm",
            "currency": "GBP",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "72000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
        },
        "opened": (3, 2, 9),
        "notes": (
            {
                "title": "Lost to a local supplier",
                "body": "They went with a local fit-out company that also handles the building works.",
            },
        ),
        "then": ("lost",),
    },
    {
        "lead": {
            "topic": "Replacement of 40 visitor chairs",
            "first_name": "James",
            "last_name": "Robinson",
            "job_title": "Facilities Coordinator",
            "company_name": "Northgate Medical Centre",
            "email": "james.robinson@northgatemedical.example",
            "business_phone": "+44 131 496 0233",
            "address_city": "Edinburgh",
            "address_country": "United Kingdom",
            "lead_source": "web",
            "rating": "cold",
            "currency": "GBP",
        },
        "opened": (1, 2, 10),
    },
    {
        "lead": {
            "topic": "Annual support contract renewal",
            "first_name": "Jessica",
            "last_name": "Miller",
            "job_title": "Procurement Lead",
            "company_name": "Harbor Point Marketing",
            "email": "jmiller@harborpoint.example",
            "business_phone": "+1 617-555-0172",
            "address_city": "Boston",
            "address_state_or_province": "MA",
            "address_country": "United States",
            "lead_source": "other",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "9600.00",
            "budget_status": "can_buy",
        },
        "opened": (0, 1, 14),
        "notes": (
            {"title": "Renewal call", "body": "Wants to add weekend support; send an updated quote."},
        ),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Home-office furniture packages for remote staff",
            "first_name": "Daniel",
            "last_name": "Hughes",
            "job_title": "HR Director",
            "company_name": "Greenfield Insurance Brokers",
            "email": "daniel.hughes@greenfieldbrokers.example",
            "business_phone": "+44 117 496 0654",
            "address_city": "Bristol",
            "address_country": "United Kingdom",
            "lead_source": "partner",
            "rating": "hot",
            "currency": "GBP",
            "purchase_timeframe": "this_quarter",
            "budget_amount": "31000.00",
            "budget_status": "will_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "must_have",
        },
        "opened": (2, 0, 14),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Two-day consultative selling workshop",
            "first_name": "Hannah",
            "last_name": "Wright",
            "job_title": "Head of Sales",
            "company_name": "Pennine Outdoor Gear",
            "email": "hannah.wright@pennineoutdoor.example",
            "business_phone": "+44 114 496 0388",
            "address_city": "Sheffield",
            "address_country": "United Kingdom",
            "lead_source": "seminar",
            "rating": "cold",
            "currency": "GBP",
        },
        "opened": (2, 4, 11),
        "notes": (
            {
                "title": "Training budget frozen",
                "body": "No external training this year after the reorganisation.",
            },
        ),
        "then": ("no_longer_interested",),
    },
    {
        "lead": {
            "topic": "Boardroom table and 14 chairs",
            "first_name": "Robert",
            "last_name": "Johnson",
            "job_title": "Chief Executive Officer",
            "company_name": "Johnson & Reyes Law Group",
            "email": "rjohnson@johnsonreyes.example",
            "business_phone": "+1 312-555-0119",
            "address_city": "Chicago",
            "address_state_or_province": "IL",
            "address_country": "United States",
            "lead_source": "word_of_mouth",
            "rating": "warm",
            "currency": "USD",
            "budget_amount": "22000.00",
        },
        "opened": (4, 0, 15),
        "notes": (
            {
                "title": "Office move cancelled",
                "body": "The firm renewed the lease of its current office; no new boardroom.",
            },
        ),
        "then": ("canceled",),
    },
    {
        "lead": {
            "topic": "CRM licences with email integration",
            "first_name": "Chloe",
            "last_name": "Evans",
            "job_title": "Marketing Manager",
            "company_name": "Cardiff Bay Events",
            "email": "chloe@cardiffbayevents.example",
            "business_phone": "+44 29 2018 0742",
            "address_city": "Cardiff",
            "address_country": "United Kingdom",
            "lead_source": "web",
            "rating": "warm",
            "currency": "GBP",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (1, 3, 16),
    },
    {
        "lead": {
            "topic": "Acoustic phone booths (6 units)",
            "first_name": "Liam",
            "last_name": "Kelly",
            "job_title": "Workplace Manager",
            "company_name": "Galway Bay Games",
            "email": "liam.kelly@galwaybaygames.example",
            "business_phone": "+353 91 555 0126",
            "address_city": "Galway",
            "address_country": "Ireland",
            "lead_source": "trade_show",
            "rating": "hot",
            "currency": "EUR",
            "purchase_timeframe": "immediate",
            "budget_amount": "27000.00",
            "budget_status": "will_buy",
            "purchase_process": "individual",
            "decision_maker": True,
            "need": "must_have",
        },
        "campaign": "campaign-feria-oficina",
        "opened": (1, 1, 15),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Laptops and docking stations for 20 analysts",
            "first_name": "Ashley",
            "last_name": "Davis",
            "job_title": "IT Director",
            "company_name": "Summit Ridge Capital",
            "email": "adavis@summitridge.example",
            "business_phone": "+1 303-555-0161",
            "address_city": "Denver",
            "address_state_or_province": "CO",
            "address_country": "United States",
            "lead_source": "advertisement",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "48000.00",
            "budget_status": "may_buy",
            "purchase_process": "committee",
            "decision_maker": False,
            "need": "should_have",
        },
        "opened": (0, 2, 10),
        "then": ("contacted",),
    },
    {
        "lead": {
            "topic": "Reception area redesign",
            "first_name": "Sophie",
            "last_name": "Turner",
            "job_title": "Practice Manager",
            "company_name": "Riverside Dental Care",
            "email": "sophie.turner@riversidedental.example",
            "business_phone": "+44 1865 496 0417",
            "address_city": "Oxford",
            "address_country": "United Kingdom",
            "lead_source": "web",
            "rating": "cold",
            "currency": "GBP",
        },
        "opened": (3, 5, 10),
        "then": ("lost",),
    },
    {
        "lead": {
            "topic": "Ergonomic chair for a home studio",
            "first_name": "Grace",
            "last_name": "Lee",
            "job_title": "Freelance illustrator",
            "email": "grace.lee@mail.example",
            "mobile_phone": "+1 503-555-0188",
            "address_city": "Portland",
            "address_state_or_province": "OR",
            "address_country": "United States",
            "lead_source": "web",
            "rating": "cold",
            "currency": "USD",
        },
        "opened": (0, 5, 20),
    },
    {
        "lead": {
            "topic": "Hot-desking booking system",
            "first_name": "Thomas",
            "last_name": "Clarke",
            "job_title": "Chief Operating Officer",
            "company_name": "Clarke Digital Agency",
            "email": "tom@clarkedigital.example",
            "business_phone": "+44 20 7946 0958",
            "address_city": "London",
            "address_country": "United Kingdom",
            "lead_source": "public_relations",
            "rating": "warm",
            "currency": "GBP",
        },
        "opened": (2, 3, 16),
        "notes": (
            {"title": "Bounced email", "body": "Email bounced and the switchboard has no record of Thomas."},
        ),
        "then": ("cannot_contact",),
    },
    {
        "lead": {
            "topic": "Training room furniture for 30 learners",
            "first_name": "Megan",
            "last_name": "Foster",
            "job_title": "Learning & Development Lead",
            "company_name": "Lakeside Community College",
            "email": "mfoster@lakesidecc.example",
            "business_phone": "+1 612-555-0145",
            "address_city": "Minneapolis",
            "address_state_or_province": "MN",
            "address_country": "United States",
            "lead_source": "seminar",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "this_year",
            "budget_amount": "24000.00",
            "budget_status": "can_buy",
            "purchase_process": "committee",
            "decision_maker": False,
            "need": "should_have",
        },
        "opened": (2, 2, 9),
        "then": ("qualify",),
    },
    {
        "lead": {
            "topic": "Whiteboards and storage for 10 classrooms",
            "first_name": "Patrick",
            "last_name": "Byrne",
            "job_title": "Principal",
            "company_name": "St Brendan's Community School",
            "email": "principal@stbrendans.example",
            "business_phone": "+353 61 555 0173",
            "address_city": "Limerick",
            "address_country": "Ireland",
            "lead_source": "employee_referral",
            "rating": "warm",
            "currency": "EUR",
        },
        "opened": (1, 4, 14),
    },
    {
        "lead": {
            "topic": "Simple CRM for a three-person studio",
            "first_name": "Ryan",
            "last_name": "Mitchell",
            "job_title": "Co-founder",
            "company_name": "Fernleaf Studio",
            "email": "ryan@fernleafstudio.example",
            "business_phone": "+1 415-555-0107",
            "address_city": "San Francisco",
            "address_state_or_province": "CA",
            "address_country": "United States",
            "lead_source": "web",
            "rating": "cold",
            "currency": "USD",
            "purchase_timeframe": "unknown",
            "need": "good_to_have",
        },
        "campaign": "campaign-crm-webinars",
        "opened": (1, 0, 17),
        "notes": (
            {
                "title": "Intro email",
                "body": "Replied to our webinar follow-up; wants a short demo next week.",
            },
        ),
        "then": ("contacted",),
    },
    # ------------------------------------------------------------------ duplicates to resolve (§5)
    # Both companies became accounts when earlier leads were qualified: qualifying these shows the
    # duplicate warning, where the seller links the existing account or creates a new one.
    {
        "lead": {
            "topic": "Sillas para la nueva oficina de Sevilla",
            "first_name": "Marta",
            "last_name": "Gil Navarro",
            "job_title": "Office Manager",
            "company_name": "Grupo Alcázar Seguros",
            "email": "marta.gil@grupoalcazar.example",
            "business_phone": "+34 954 550 310",
            "address_city": "Sevilla",
            "address_country": "España",
            "lead_source": "employee_referral",
            "rating": "warm",
            "currency": "EUR",
            "purchase_timeframe": "next_quarter",
            "budget_amount": "9000.00",
            "need": "should_have",
        },
        "opened": (0, 2, 11),
        "notes": (
            {
                "title": "Recomendación de Lucía Fernández",
                "body": "La sede de Sevilla quiere las mismas sillas que Madrid.",
            },
        ),
    },
    {
        "lead": {
            "topic": "Sit-stand desks for the Denver office",
            "first_name": "Olivia",
            "last_name": "Grant",
            "job_title": "Facilities Lead",
            "company_name": "Brightline Software Inc.",
            "email": "olivia.grant@brightline.example",
            "business_phone": "+1 303-555-0188",
            "address_city": "Denver",
            "address_state_or_province": "CO",
            "address_country": "United States",
            "lead_source": "word_of_mouth",
            "rating": "warm",
            "currency": "USD",
            "purchase_timeframe": "this_year",
            "budget_amount": "30000.00",
            "need": "should_have",
        },
        "opened": (0, 1, 14),
    },
)


# ----------------------------------------------------------------------------------------------
# lifecycle steps: each goes through a service, except Contacted which has none


def _mark_contacted(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
    # Contacted is an open status reason and no service sets it: it is a plain field change.
    lead.status_reason = LeadStatusReason.CONTACTED
    lead.modified_by_id = actor.user_id
    uow.flush()


def _qualify(create_opportunity: bool) -> Callable[..., uuid.UUID | None]:
    def step(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> uuid.UUID | None:
        # Explicit choices rather than QualifyOptions(): they also work when the organisation
        # asks the seller to choose which records qualifying creates (§6).
        options = QualifyOptions(
            create_account=True, create_contact=True, create_opportunity=create_opportunity
        )
        result = qualify_lead(lead.id, options, uow=uow, actor=actor)
        added["accounts"] += result.account_id is not None
        added["contacts"] += result.contact_id is not None
        added["opportunities"] += len(result.opportunity_ids)
        return result.opportunity_ids[0] if result.opportunity_ids else None

    return step


def _disqualify(reason: LeadStatusReason) -> Callable[..., None]:
    def step(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
        disqualify_lead(lead.id, reason, uow=uow, actor=actor)

    return step


def _reactivate(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
    reactivate_lead(lead.id, uow=uow, actor=actor)


STEPS: Mapping[str, Callable[..., uuid.UUID | None]] = {
    "contacted": _mark_contacted,
    "qualify": _qualify(create_opportunity=True),
    "qualify_without_opportunity": _qualify(create_opportunity=False),
    "lost": _disqualify(LeadStatusReason.LOST),
    "cannot_contact": _disqualify(LeadStatusReason.CANNOT_CONTACT),
    "no_longer_interested": _disqualify(LeadStatusReason.NO_LONGER_INTERESTED),
    "canceled": _disqualify(LeadStatusReason.CANCELED),
    "reactivate": _reactivate,
}


# ----------------------------------------------------------------------------------------------
# loading


# Two sales business units under the root, and users of several roles in them. The passwords are
# for trying leadflow out: `leadflow demo` prints them; change them before real use.
DEMO_UNITS: tuple[tuple[str, str | None], ...] = (("Ventas España", None), ("Sales UK", None))
DEMO_USERS: tuple[dict[str, str], ...] = (
    {"email": "admin@leadflow.example", "name": "Alex Admin", "role": "System Administrator",
     "unit": "", "language": "en", "password": "demo-admin-2026"},
    {"email": "victoria.lane@leadflow.example", "name": "Victoria Lane", "role": "Vice President of Sales",
     "unit": "", "language": "en", "password": "demo-victoria-2026"},
    {"email": "laura.martin@leadflow.example", "name": "Laura Martín", "role": "Sales Manager",
     "unit": "Ventas España", "language": "es", "password": "demo-laura-2026"},
    {"email": "carlos.ruiz@leadflow.example", "name": "Carlos Ruiz", "role": "Salesperson",
     "unit": "Ventas España", "language": "es", "password": "demo-carlos-2026"},
    {"email": "emma.clarke@leadflow.example", "name": "Emma Clarke", "role": "Salesperson",
     "unit": "Sales UK", "language": "en", "password": "demo-emma-2026"},
    {"email": "oliver.hughes@leadflow.example", "name": "Oliver Hughes", "role": "Sales Team Member",
     "unit": "Sales UK", "language": "en", "password": "demo-oliver-2026"},
)
SPANISH_SELLER = "carlos.ruiz@leadflow.example"
ENGLISH_SELLER = "emma.clarke@leadflow.example"
_SPANISH_SPEAKING = {"España", "México", "Colombia", "Argentina", "Chile", "Perú"}


def load_demo(database: Database) -> str:
    """Load realistic demo data in Spanish and English; safe to run twice. Returns a one-line summary.

    Spanish-speaking leads belong to the Spanish seller, the others to the English one, so that
    each business unit sees its own pipeline.
    """
    now = utcnow()
    added: Counter[str] = Counter()
    with database.unit_of_work() as uow:
        _ensure_users(uow, added)
        campaign_ids = _ensure_campaigns(uow, added)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        sellers = {email: actor_for_email(uow.session, email) for email in (SPANISH_SELLER, ENGLISH_SELLER)}
    _ensure_duplicate_rules(database, added)
    for spec in DEMO_LEADS:
        spanish = spec["lead"].get("address_country") in _SPANISH_SPEAKING
        actor = sellers[SPANISH_SELLER if spanish else ENGLISH_SELLER]
        with database.unit_of_work() as uow:
            if _find_demo_lead(uow, spec["lead"]) is None:
                _load_lead(spec, campaign_ids=campaign_ids, now=now, uow=uow, actor=actor, added=added)
                uow.commit()
    return _summary(added)


def _ensure_users(uow: UnitOfWork, added: Counter[str]) -> None:
    """The demo business units and users, created if missing."""
    session = uow.session
    for name, parent in DEMO_UNITS:
        if session.scalars(select(BusinessUnit.id).where(BusinessUnit.name == name)).first() is None:
            create_business_unit(name, parent_name=parent, uow=uow, actor=None)
    for user in DEMO_USERS:
        if session.scalars(select(User.id).where(User.email == user["email"])).first() is None:
            create_user(
                email=user["email"], full_name=user["name"], role_names=[user["role"]],
                business_unit_name=user["unit"] or None, password=user["password"],
                language=user["language"], uow=uow, actor=None,
            )
            added["users"] += 1


# leadflow's own criteria beside the out-of-box exact rules: spellings that differ only in accents,
# punctuation or legal form, and names with a typo.
DEMO_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Accounts with the same company name, ignoring legal form and accents",
        "description": "“Grupo Alcázar Seguros S.A.” and “grupo alcazar seguros” are the same company.",
        "base_table": "accounts",
        "exclude_inactive": True,
        "conditions": [{"base_column": "name", "criterion": "normalized"}],
    },
    {
        "name": "Contacts with a similar full name",
        "description": "Catches typos and missing accents such as “Lucia Fernandes Ruiz” for “Lucía Fernández Ruiz”.",
        "base_table": "contacts",
        "exclude_inactive": True,
        "conditions": [{"base_column": "full_name", "criterion": "similar", "threshold": 0.92}],
    },
)


def _ensure_duplicate_rules(database: Database, added: Counter[str]) -> None:
    """The demo's own duplicate detection rules, created and published if missing."""
    with database.unit_of_work(read_only=True) as uow:
        admin = actor_for_email(uow.session, DEMO_USERS[0]["email"])
        existing = set(uow.session.scalars(select(DuplicateRule.name)))
    for definition in DEMO_RULES:
        if definition["name"] in existing:
            continue
        with database.unit_of_work() as uow:
            rule = create_rule(parse(RuleCreate, definition), uow=uow, actor=admin)
            uow.commit()
        publish_rule(rule.id, database=database, actor=admin)
        added["duplicate detection rules"] += 1


def _ensure_campaigns(uow: UnitOfWork, added: Counter[str]) -> dict[str, uuid.UUID]:
    """The demo campaigns' ids by key, creating those that are missing."""
    session = uow.session
    ids: dict[str, uuid.UUID] = {}
    for data in CAMPAIGNS:
        campaign_id = uuid.uuid5(DEMO_NAMESPACE, data["key"])
        campaign = session.get(Campaign, campaign_id) or session.scalars(
            select(Campaign).where(Campaign.code == data["code"])
        ).first()
        if campaign is None:
            campaign = Campaign(id=campaign_id, name=data["name"], code=data["code"])
            session.add(campaign)
            added["campaigns"] += 1
        ids[data["key"]] = campaign.id
    uow.flush()
    return ids


def _find_demo_lead(uow: UnitOfWork, fields: Mapping[str, Any]) -> uuid.UUID | None:
    """The id of the lead already loaded for this demo entry, found by its natural key."""
    return uow.session.scalars(
        select(Lead.id).where(Lead.topic == fields["topic"], Lead.last_name == fields["last_name"]).limit(1)
    ).first()


def _load_lead(
    spec: Mapping[str, Any],
    *,
    campaign_ids: Mapping[str, uuid.UUID],
    now: datetime,
    uow: UnitOfWork,
    actor: Actor,
    added: Counter[str],
) -> None:
    """Create one demo lead, add its notes, then walk it through its lifecycle steps."""
    fields = dict(spec["lead"])
    if "campaign" in spec:
        fields["campaign_id"] = campaign_ids[spec["campaign"]]
    lead = create_lead(parse(LeadCreate, fields), uow=uow, actor=actor)
    lead.created_at = opened_at(spec["opened"], now)
    uow.flush()
    added["leads"] += 1

    # Notes first: closed leads refuse new notes.
    for note in spec.get("notes", ()):
        _add_note(RegardingTable.LEADS, lead.id, note, uow=uow, actor=actor, added=added)

    opportunity_id: uuid.UUID | None = None
    for step in spec.get("then", ()):
        opportunity_id = STEPS[step](lead, uow=uow, actor=actor, added=added) or opportunity_id

    for note in spec.get("opportunity_notes", ()):
        if opportunity_id is None:
            raise ValueError(f"Demo lead {fields['topic']!r} has opportunity notes but no opportunity.")
        _add_note(RegardingTable.OPPORTUNITIES, opportunity_id, note, uow=uow, actor=actor, added=added)

    added[f"status:{lead.status_reason.value}"] += 1


def opened_at(opened: tuple[int, int, int], now: datetime) -> datetime:
    """When a demo lead was created: (weeks ago, day of that week, hour), weeks starting Monday UTC.

    Leads of the current week are spread over the part of the week already elapsed, so that they
    are never in the future, whatever the day the demo is loaded.
    """
    weeks_ago, day, hour = opened
    week = start_of_week(now)
    offset = timedelta(days=day, hours=hour)
    if weeks_ago == 0:
        moment = week + (now - week) * (offset / timedelta(weeks=1))
    else:
        moment = week - timedelta(weeks=weeks_ago) + offset
    return moment.replace(microsecond=0)


def _add_note(
    table: RegardingTable,
    record_id: uuid.UUID,
    note: Mapping[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    added: Counter[str],
) -> None:
    attachment = None
    if note.get("attachment"):
        file_name, mime_type, text = note["attachment"]
        attachment = AttachmentUpload(file_name, mime_type, text.encode("utf-8"))
    add_note(
        table,
        record_id,
        title=note.get("title"),
        body=note.get("body"),
        attachment=attachment,
        max_attachment_bytes=MAX_ATTACHMENT_BYTES,
        uow=uow,
        actor=actor,
    )
    added["notes"] += 1
    added["attachments"] += attachment is not None


def _summary(added: Counter[str]) -> str:
    """One line for the CLI: what this run added, or that everything was already there."""
    if not any(added[key] for key in ("leads", "campaigns", "users", "duplicate detection rules")):
        return (
            f"nothing new added; the {len(DEMO_LEADS)} demo leads and {len(CAMPAIGNS)} demo "
            "campaigns are already there."
        )
    statuses = ", ".join(
        f"{added[f'status:{reason.value}']} {reason.value.replace('_', ' ')}"
        for reason in LeadStatusReason
        if added[f"status:{reason.value}"]
    )
    leads = _count(added["leads"], "lead") + (f" ({statuses})" if statuses else "")
    return (
        f"added {leads}, {_count(added['campaigns'], 'campaign')}, "
        f"{_count(added['notes'], 'note')} ({added['attachments']} with attachments), "
        f"{_count(added['accounts'], 'account')}, {_count(added['contacts'], 'contact')} and "
        f"{_count(added['opportunities'], 'opportunity', 'opportunities')}"
        + (f"; {_count(added['duplicate detection rules'], 'duplicate detection rule')}" if added["duplicate detection rules"] else "")
        + (f"; {_count(added['users'], 'demo user')}." if added["users"] else ".")
    )


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
