"""The object types, properties, pipelines and association types of the emulated portal.

Property values travel as strings in HubSpot; ``type`` says how the portal interprets them
(number, date, datetime, enumeration, bool). The custom properties are the ones a
handoff-sync portal carries; the seed generator and the default mapping packs use these
names; change them together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HsProperty:
    name: str
    label: str
    type: str  # string number date datetime enumeration bool
    field_type: str  # text textarea number date select radio checkbox booleancheckbox ...
    group_name: str
    options: tuple[tuple[str, str], ...] = ()  # (label, value)
    has_unique_value: bool = False
    hubspot_defined: bool = True
    calculated: bool = False
    read_only_value: bool = False
    description: str = ""


def _text(name: str, label: str, group: str, *, area: bool = False,
          hubspot_defined: bool = True, has_unique_value: bool = False) -> HsProperty:
    return HsProperty(name, label, "string", "textarea" if area else "text", group,
                      has_unique_value=has_unique_value, hubspot_defined=hubspot_defined)


def _enum(name: str, label: str, group: str, values: tuple[str, ...] | dict[str, str],
          *, multi: bool = False, custom: bool = False) -> HsProperty:
    pairs = values.items() if isinstance(values, dict) else ((v, v) for v in values)
    options = tuple((label_, value) for value, label_ in pairs)
    return HsProperty(name, label, "enumeration", "checkbox" if multi else "select", group,
                      options=options, hubspot_defined=not custom)


def _bool(name: str, label: str, group: str, *, custom: bool = False) -> HsProperty:
    return HsProperty(name, label, "bool", "booleancheckbox", group,
                      options=(("Yes", "true"), ("No", "false")), hubspot_defined=not custom)


def _system(object_group: str) -> tuple[HsProperty, ...]:
    return (
        HsProperty("hs_object_id", "Record ID", "number", "number", object_group,
                   read_only_value=True),
        HsProperty("createdate", "Create Date", "datetime", "date", object_group,
                   read_only_value=True),
        HsProperty("hs_lastmodifieddate", "Last Modified Date", "datetime", "date",
                   object_group, read_only_value=True),
        HsProperty("hubspot_owner_id", "Owner", "enumeration", "select", object_group),
    )


HANDOFF_TYPES = {"partner_to_direct": "Partner to Direct", "closed_won_to_cs": "Closed Won to CS"}
HANDOFF_STAGES = {
    "pre_handoff_assessment": "1 Pre-Handoff Assessment",
    "joint_discovery": "2 Joint Discovery",
    "knowledge_transfer": "3 Knowledge Transfer",
    "responsibility_transition": "4 Responsibility Transition",
    "partnership_preservation": "5 Partnership Preservation",
    "kickoff": "6 Customer Success Kickoff",  # the closed-won handoff's stage
}
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
# Customer segment by deal size: internal value -> label (HubSpot's own naming style).
SEGMENTS = {"enterprise": "Enterprise", "mid_market": "Mid-Market", "smb": "SMB"}
COMPETITORS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Other")
PARTNER_ROLES = {
    "referral_only": "Referral Only",
    "co_sell": "Co-Sell",
    "services_delivery": "Services Delivery",
    "reseller_of_record": "Reseller of Record",
}
GATE_STATUSES = {"passed": "Passed", "blocked": "Blocked", "not_required": "Not Required"}
SLA_STATUSES = {"on_track": "On Track", "at_risk": "At Risk", "breached": "Breached",
                "met": "Met"}
HANDOFF_ACCEPTANCE = {"pending": "Pending", "accepted": "Accepted", "rejected": "Rejected"}
PARTNER_TIERS = {"registered": "Registered", "silver": "Silver", "gold": "Gold",
                 "platinum": "Platinum"}
# A partner company's capabilities (partner readiness), weakest first.
TECHNICAL_CONVERSATIONS = {"needs_support": "Needs Support", "basic": "Basic",
                           "proficient": "Proficient", "expert": "Expert"}
APPROVAL_NAVIGATION = {"vendor_led": "Vendor-Led", "assisted": "Assisted",
                       "independent": "Independent"}

_H = "handoff"  # property group of the custom handoff properties
_P = "partnerprogram"  # property group of the partner program's company properties

DEAL_PROPERTIES: tuple[HsProperty, ...] = (
    *_system("dealinformation"),
    _text("dealname", "Deal Name", "dealinformation"),
    HsProperty("amount", "Amount", "number", "number", "dealinformation"),
    HsProperty("closedate", "Close Date", "datetime", "date", "dealinformation"),
    HsProperty("pipeline", "Pipeline", "enumeration", "select", "dealinformation"),
    HsProperty("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation"),
    _enum("dealtype", "Deal Type", "dealinformation",
          {"newbusiness": "New Business", "existingbusiness": "Existing Business"}),
    _text("description", "Deal Description", "dealinformation", area=True),
    HsProperty("hs_is_closed", "Is Deal Closed?", "bool", "calculation_equation",
               "dealinformation", options=(("True", "true"), ("False", "false")),
               calculated=True, read_only_value=True),
    HsProperty("hs_is_closed_won", "Is Closed Won", "bool", "calculation_equation",
               "dealinformation", options=(("True", "true"), ("False", "false")),
               calculated=True, read_only_value=True),
    HsProperty("hs_deal_stage_probability", "Deal Stage Probability", "number",
               "calculation_equation", "dealinformation", calculated=True,
               read_only_value=True),
    # Partner linkage and qualification facts (custom).
    _text("partner_registration_id", "Partner Registration ID", _H, hubspot_defined=False,
          has_unique_value=True),
    _text("crm_opportunity_id", "CRM Opportunity ID", _H, hubspot_defined=False),
    # The key handoff-sync creates a deal by (a property with unique values).
    _text("handoff_create_key", "Handoff Create Key", _H, hubspot_defined=False,
          has_unique_value=True),
    # Why handoff-sync gave a deal it created its owner (written at creation).
    _text("handoff_routing", "Handoff Routing", _H, area=True, hubspot_defined=False),
    _text("partner_account_name", "Partner Account", _H, hubspot_defined=False),
    _text("partner_rep_email", "Partner Rep Email", _H, hubspot_defined=False),
    _text("customer_account_name", "Customer Account", _H, hubspot_defined=False),
    _text("customer_domain", "Customer Domain", _H, hubspot_defined=False),
    _text("ae_email", "Direct AE Email", _H, hubspot_defined=False),
    HsProperty("cs_owner_id", "CS Owner", "enumeration", "select", _H, hubspot_defined=False),
    _enum("handoff_type", "Handoff Type", _H, HANDOFF_TYPES, custom=True),
    _enum("handoff_stage", "Handoff Stage", _H, HANDOFF_STAGES, custom=True),
    HsProperty("handoff_stage_entered_at", "Handoff Stage Entered", "datetime", "date", _H,
               hubspot_defined=False),
    _enum("region", "Region", _H, REGIONS, custom=True),
    _enum("segment", "Segment", _H, SEGMENTS, custom=True),
    HsProperty("budget", "Budget", "number", "number", _H, hubspot_defined=False),
    _text("economic_buyer", "Economic Buyer", _H, hubspot_defined=False),
    _text("need", "Need / Pain", _H, area=True, hubspot_defined=False),
    HsProperty("decision_date", "Decision Date", "date", "date", _H, hubspot_defined=False),
    _text("decision_process", "Decision Process", _H, area=True, hubspot_defined=False),
    _text("technical_requirements", "Technical Requirements", _H, area=True,
          hubspot_defined=False),
    _enum("competitors", "Competitors", _H, COMPETITORS, multi=True, custom=True),
    _text("stakeholder_map", "Stakeholder Map", _H, area=True, hubspot_defined=False),
    _text("commitments", "Commitments", _H, area=True, hubspot_defined=False),
    _text("success_criteria", "Success Criteria", _H, area=True, hubspot_defined=False),
    _text("open_risks", "Open Risks", _H, area=True, hubspot_defined=False),
    _bool("partner_prepared_prospect", "Partner Prepared Prospect", _H, custom=True),
    HsProperty("intro_call_at", "Three-Party Intro Call", "datetime", "date", _H,
               hubspot_defined=False),
    HsProperty("joint_discovery_at", "Joint Discovery Session", "datetime", "date", _H,
               hubspot_defined=False),
    HsProperty("kickoff_at", "Customer Success Kickoff", "datetime", "date", _H,
               hubspot_defined=False),
    _text("communication_protocol", "Communication Protocol", _H, area=True,
          hubspot_defined=False),
    HsProperty("co_led_meetings", "Co-Led Meetings", "number", "number", _H,
               hubspot_defined=False),
    _text("partner_feedback", "Partner Feedback", _H, area=True, hubspot_defined=False),
    _enum("partner_ongoing_role", "Partner Ongoing Role", _H, PARTNER_ROLES, custom=True),
    HsProperty("partner_split_pct", "Partner Split %", "number", "number", _H,
               hubspot_defined=False),
    # The receiving owner accepts or rejects the handoff; the sender re-submits it.
    _enum("handoff_acceptance", "Handoff Acceptance", _H, HANDOFF_ACCEPTANCE, custom=True),
    _text("handoff_rejection_reason", "Handoff Rejection Reason", _H, area=True,
          hubspot_defined=False),
    _bool("handoff_resubmit", "Re-submit Handoff", _H, custom=True),
    # Outputs handoff-sync writes back.
    _bool("handoff_required", "Handoff Required", _H, custom=True),
    _enum("handoff_gate_status", "Handoff Gate Status", _H, GATE_STATUSES, custom=True),
    HsProperty("handoff_completeness", "Handoff Completeness %", "number", "number", _H,
               hubspot_defined=False),
    _text("handoff_missing_fields", "Handoff Missing Fields", _H, area=True,
          hubspot_defined=False),
    HsProperty("handoff_sla_due", "Handoff SLA Due", "datetime", "date", _H,
               hubspot_defined=False),
    _enum("handoff_sla_status", "Handoff SLA Status", _H, SLA_STATUSES, custom=True),
    _text("handoff_brief", "Handoff Brief", _H, area=True, hubspot_defined=False),
    HsProperty("handoff_last_synced", "Handoff Last Synced", "datetime", "date", _H,
               hubspot_defined=False),
)

TASK_PROPERTIES: tuple[HsProperty, ...] = (
    *_system("task"),
    HsProperty("hs_timestamp", "Due date", "datetime", "date", "task"),
    _text("hs_task_subject", "Task Title", "task"),
    _text("hs_task_body", "Notes", "task", area=True),
    _enum("hs_task_status", "Task Status", "task",
          {"NOT_STARTED": "Not started", "IN_PROGRESS": "In progress", "WAITING": "Waiting",
           "DEFERRED": "Deferred", "COMPLETED": "Completed"}),
    _enum("hs_task_priority", "Priority", "task",
          {"NONE": "None", "LOW": "Low", "MEDIUM": "Medium", "HIGH": "High"}),
    _enum("hs_task_type", "Task Type", "task",
          {"TODO": "To-do", "CALL": "Call", "EMAIL": "Email", "LINKED_IN": "LinkedIn"}),
    _text("handoff_task_key", "Handoff Task Key", _H, hubspot_defined=False,
          has_unique_value=True),
)

COMPANY_PROPERTIES: tuple[HsProperty, ...] = (
    *_system("companyinformation"),
    _text("name", "Company name", "companyinformation"),
    _text("domain", "Company Domain Name", "companyinformation"),
    _enum("industry", "Industry", "companyinformation",
          ("COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE", "MACHINERY",
           "RETAIL", "EDUCATION_MANAGEMENT", "OTHER")),
    _text("country", "Country/Region", "companyinformation"),
    _enum("type", "Type", "companyinformation",
          ("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
    _enum("region", "Region", _H, REGIONS, custom=True),
    # Partner companies (type PARTNER): tier and capabilities, kept by the channel team.
    _enum("partner_tier", "Partner Tier", _P, PARTNER_TIERS, custom=True),
    _enum("technical_conversations", "Technical Conversations", _P,
          TECHNICAL_CONVERSATIONS, custom=True),
    _enum("approval_navigation", "Approval Navigation", _P, APPROVAL_NAVIGATION,
          custom=True),
    HsProperty("certified_engineers", "Certified Engineers", "number", "number", _P,
               hubspot_defined=False),
)

CONTACT_PROPERTIES: tuple[HsProperty, ...] = (
    *_system("contactinformation"),
    _text("email", "Email", "contactinformation"),
    _text("firstname", "First Name", "contactinformation"),
    _text("lastname", "Last Name", "contactinformation"),
    _text("company", "Company Name", "contactinformation"),
    _text("jobtitle", "Job Title", "contactinformation"),
    _text("phone", "Phone Number", "contactinformation"),
)

# Properties returned when a read names none (HubSpot's per-object defaults).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage", "createdate",
              "hs_lastmodifieddate", "hs_object_id"),
    "tasks": ("hs_task_subject", "hs_task_status", "hs_task_priority", "hs_timestamp",
              "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "companies": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "contacts": ("email", "firstname", "lastname", "createdate", "hs_lastmodifieddate",
                 "hs_object_id"),
}

OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27",
}

# (from, to) -> HUBSPOT_DEFINED default association type id.
ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 1, ("companies", "contacts"): 2,
    ("deals", "contacts"): 3, ("contacts", "deals"): 4,
    ("deals", "companies"): 5, ("companies", "deals"): 6,
    ("companies", "tasks"): 191, ("tasks", "companies"): 192,
    ("contacts", "tasks"): 203, ("tasks", "contacts"): 204,
    ("deals", "tasks"): 215, ("tasks", "deals"): 216,
}


@dataclass(frozen=True)
class HsStage:
    id: str
    label: str
    display_order: int
    probability: str
    is_closed: bool


@dataclass(frozen=True)
class HsPipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[HsStage, ...]


DEFAULT_PIPELINE = HsPipeline("default", "Sales Pipeline", 0, (
    HsStage("appointmentscheduled", "Appointment Scheduled", 0, "0.2", False),
    HsStage("qualifiedtobuy", "Qualified To Buy", 1, "0.4", False),
    HsStage("presentationscheduled", "Presentation Scheduled", 2, "0.6", False),
    HsStage("decisionmakerboughtin", "Decision Maker Bought-In", 3, "0.8", False),
    HsStage("contractsent", "Contract Sent", 4, "0.9", False),
    HsStage("closedwon", "Closed Won", 5, "1.0", True),
    HsStage("closedlost", "Closed Lost", 6, "0.0", True),
))

# A custom pipeline, as a PRM-in-HubSpot portal would have: custom pipelines and their
# stages get numeric ids, labels are display-only.
PARTNER_PIPELINE = HsPipeline("9004451", "Partner Deal Registrations", 1, (
    HsStage("9004452", "Registration Submitted", 0, "0.1", False),
    HsStage("9004453", "Registration Approved", 1, "0.2", False),
    HsStage("9004454", "Handoff Ready", 2, "0.4", False),
    HsStage("9004455", "Accepted by Direct Sales", 3, "0.6", False),
    HsStage("9004456", "Closed Won", 4, "1.0", True),
    HsStage("9004457", "Closed Lost / Rejected", 5, "0.0", True),
))

PIPELINES: dict[str, tuple[HsPipeline, ...]] = {"deals": (DEFAULT_PIPELINE, PARTNER_PIPELINE)}

# HubSpot's calculated stage history of a deal, one pair per stage of every pipeline:
# when the deal last entered and last left the stage (datetime, read-only).
DATE_ENTERED, DATE_EXITED = "hs_date_entered_", "hs_date_exited_"


def date_entered(stage_id: str) -> str:
    return DATE_ENTERED + stage_id


def date_exited(stage_id: str) -> str:
    return DATE_EXITED + stage_id


def _stage_history(pipeline: HsPipeline, stage: HsStage) -> tuple[HsProperty, HsProperty]:
    def prop(name: str, verb: str) -> HsProperty:
        return HsProperty(
            name, f"Date {verb} '{stage.label} ({pipeline.label})'", "datetime",
            "calculation_read_time", "dealinformation", calculated=True, read_only_value=True,
            description=f"The date and time when the deal {verb} the '{stage.label}' stage, "
                        f"'{pipeline.label}' pipeline")

    return prop(date_entered(stage.id), "entered"), prop(date_exited(stage.id), "exited")


STAGE_HISTORY_PROPERTIES: tuple[HsProperty, ...] = tuple(
    prop for pipeline in PIPELINES["deals"] for stage in pipeline.stages
    for prop in _stage_history(pipeline, stage))

PROPERTIES: dict[str, tuple[HsProperty, ...]] = {
    "deals": DEAL_PROPERTIES + STAGE_HISTORY_PROPERTIES,
    "tasks": TASK_PROPERTIES,
    "companies": COMPANY_PROPERTIES,
    "contacts": CONTACT_PROPERTIES,
}
