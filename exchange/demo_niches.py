"""The demo niche set: realistic verticals with the fields buyers in each one filter on."""

from __future__ import annotations

from typing import Any

CREDIT = ["excellent", "good", "fair", "poor"]
# Columns of the X Education file recorded after sales worked the lead (shared/data/README.md):
# never features, and not fields of the education niche.
XEDUCATION_POST_SALE_COLUMNS = frozenset(
    {
        "Tags",
        "Lead Quality",
        "Lead Profile",
        "Asymmetrique Activity Index",
        "Asymmetrique Profile Index",
        "Asymmetrique Activity Score",
        "Asymmetrique Profile Score",
        "Last Notable Activity",
    }
)


def _f(name: str, type_: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "required": required, **extra}


def _yes_no(*names: str) -> list[dict[str, Any]]:
    return [_f(n, "boolean") for n in names]


DEMO_NICHES: list[dict[str, Any]] = [
    {
        "slug": "auto-insurance",
        "name": "Auto insurance",
        "description": "Drivers shopping for a car insurance quote.",
        "consent_required": True,
        "fields": [
            _f("currently_insured", "boolean", required=True),
            _f("current_insurer", "text", max_length=100),
            _f("vehicle_year", "number", required=True, minimum=1950, maximum=2028),
            _f("vehicle_make", "text", max_length=50),
            _f("credit_rating", "enum", choices=CREDIT),
            _f("date_of_birth", "date"),
            _f("homeowner", "boolean"),
            _f("accidents_last_3_years", "number", minimum=0, maximum=20),
        ],
    },
    {
        "slug": "solar",
        "name": "Solar",
        "description": "Homeowners asking about rooftop solar installation.",
        "consent_required": True,
        "fields": [
            _f("homeowner", "boolean", required=True),
            _f("monthly_electric_bill", "number", required=True, minimum=0, maximum=5000),
            _f("roof_type", "enum", choices=["asphalt", "metal", "tile", "flat", "other"]),
            _f("roof_shade", "enum", choices=["none", "some", "heavy"]),
            _f("credit_rating", "enum", choices=CREDIT),
            _f("utility_provider", "text", max_length=100),
        ],
    },
    {
        "slug": "mortgage",
        "name": "Mortgage",
        "description": "Home buyers and owners looking for a purchase loan or a refinance.",
        "consent_required": True,
        "return_window_hours": 48,
        "fields": [
            _f(
                "loan_purpose",
                "enum",
                required=True,
                choices=["purchase", "refinance", "cash_out_refinance", "home_equity"],
            ),
            _f("loan_amount", "number", required=True, minimum=10000, maximum=5000000),
            _f("property_value", "number", minimum=10000, maximum=20000000),
            _f(
                "property_type",
                "enum",
                choices=["single_family", "condo", "townhouse", "multi_family", "mobile"],
            ),
            _f("credit_rating", "enum", choices=CREDIT),
            _f("va_eligible", "boolean"),
            _f("first_time_buyer", "boolean"),
        ],
    },
    {
        "slug": "home-services",
        "name": "Home services",
        "description": "Homeowners requesting a contractor for a repair or a project.",
        "duplicate_window_days": 14,
        "fields": [
            _f(
                "service_type",
                "enum",
                required=True,
                choices=[
                    "hvac",
                    "roofing",
                    "plumbing",
                    "electrical",
                    "windows",
                    "remodeling",
                    "pest_control",
                ],
            ),
            _f(
                "project_timeline",
                "enum",
                choices=["immediately", "within_1_month", "1_3_months", "over_3_months"],
            ),
            _f("homeowner", "boolean"),
            _f("project_description", "text", max_length=500),
        ],
    },
    {
        "slug": "legal",
        "name": "Legal",
        "description": "People looking for a lawyer for a specific matter.",
        "consent_required": True,
        "return_window_hours": 120,
        "fields": [
            _f(
                "practice_area",
                "enum",
                required=True,
                choices=[
                    "personal_injury",
                    "family",
                    "criminal_defense",
                    "bankruptcy",
                    "immigration",
                    "employment",
                    "estate_planning",
                ],
            ),
            _f("has_attorney", "boolean", required=True),
            _f("incident_date", "date"),
            _f("case_description", "text", max_length=2000),
        ],
    },
    {
        "slug": "education",
        "name": "Education",
        "description": "Prospective students of online courses (fields follow the X Education "
        "lead form, so its historical leads import as they are).",
        "currency": "INR",
        "duplicate_window_days": 60,
        "fields": [
            _f(
                "lead_origin",
                "enum",
                choices=[
                    "API",
                    "Landing Page Submission",
                    "Lead Add Form",
                    "Lead Import",
                    "Quick Add Form",
                ],
            ),
            _f("lead_source", "text", max_length=100),
            _f("total_visits", "number", minimum=0),
            _f(
                "total_time_spent_on_website",
                "number",
                minimum=0,
                description="Seconds on the site before the form.",
            ),
            _f("page_views_per_visit", "number", minimum=0),
            _f("last_activity", "text", max_length=100),
            _f("specialization", "text", max_length=100),
            _f("how_did_you_hear_about_x_education", "text", max_length=100),
            _f(
                "what_is_your_current_occupation",
                "enum",
                choices=[
                    "Unemployed",
                    "Student",
                    "Working Professional",
                    "Businessman",
                    "Housewife",
                    "Other",
                ],
            ),
            _f("what_matters_most_to_you_in_choosing_a_course", "text", max_length=100),
            *_yes_no(
                "do_not_email",
                "do_not_call",
                "search",
                "magazine",
                "newspaper_article",
                "x_education_forums",
                "newspaper",
                "digital_advertisement",
                "through_recommendations",
                "receive_more_updates_about_our_courses",
                "update_me_on_supply_chain_content",
                "get_updates_on_dm_content",
                "i_agree_to_pay_the_amount_through_cheque",
                "a_free_copy_of_mastering_the_interview",
            ),
        ],
    },
    {
        "slug": "b2b-saas",
        "name": "B2B SaaS",
        "description": "Companies evaluating business software; BANT fields qualify them.",
        "duplicate_window_days": 90,
        "max_buyers": 2,
        "fields": [
            _f("company_name", "text", required=True, max_length=200),
            _f("job_title", "text", max_length=100),
            _f("company_size", "enum", choices=["1-10", "11-50", "51-200", "201-1000", "1000+"]),
            _f("budget", "enum", choices=["under_10k", "10k_50k", "50k_250k", "over_250k"]),
            _f("authority", "enum", choices=["decision_maker", "influencer", "researcher"]),
            _f("need", "text", max_length=1000),
            _f("timescale", "enum", choices=["now", "this_quarter", "this_year", "later"]),
        ],
    },
]
