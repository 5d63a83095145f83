"""The objects and fields the emulated Salesforce org has: what describe() returns.

Standard fields follow Salesforce's field reference (crm-api-reference.md 2.7); the custom
fields are the ones a handoff-sync org carries: the qualification facts the gates read,
the partner linkage, and the outputs the daemon writes back. The seed generator and the
default mapping packs use these names; change them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SfField:
    name: str
    type: str  # id string textarea picklist multipicklist combobox reference currency double
    #            percent int date datetime boolean email url phone
    label: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: str | None = None  # picklist default value
    defaulted_on_create: bool = False
    auto_number: bool = False

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")


@dataclass(frozen=True)
class SfObject:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[SfField, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, SfField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_lower.update({f.name.lower(): f for f in self.fields})

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> SfField | None:
        """Field by name, case-insensitively (Salesforce names are case-insensitive)."""
        return self._by_lower.get(name.lower())


def _ro(name: str, type_: str, label: str, **kw: object) -> SfField:
    return SfField(name, type_, label, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _system_fields() -> tuple[SfField, ...]:
    return (
        _ro("Id", "id", "Record ID", length=18, nillable=False),
        _ro("IsDeleted", "boolean", "Deleted", nillable=False, defaulted_on_create=True),
        _ro("CreatedDate", "datetime", "Created Date", nillable=False, defaulted_on_create=True),
        _ro("CreatedById", "reference", "Created By ID", length=18, nillable=False,
            reference_to=("User",), relationship_name="CreatedBy", defaulted_on_create=True),
        _ro("LastModifiedDate", "datetime", "Last Modified Date", nillable=False,
            defaulted_on_create=True),
        _ro("LastModifiedById", "reference", "Last Modified By ID", length=18, nillable=False,
            reference_to=("User",), relationship_name="LastModifiedBy", defaulted_on_create=True),
        _ro("SystemModstamp", "datetime", "System Modstamp", nillable=False,
            defaulted_on_create=True),
    )


def _owner() -> SfField:
    return SfField("OwnerId", "reference", "Owner ID", length=18, nillable=False,
                   reference_to=("User",), relationship_name="Owner", defaulted_on_create=True)


# Opportunity stages: name -> (probability, is_closed, is_won), as OpportunityStage defines.
OPPORTUNITY_STAGES: dict[str, tuple[int, bool, bool]] = {
    "Prospecting": (10, False, False),
    "Qualification": (10, False, False),
    "Needs Analysis": (20, False, False),
    "Value Proposition": (50, False, False),
    "Id. Decision Makers": (60, False, False),
    "Perception Analysis": (70, False, False),
    "Proposal/Price Quote": (75, False, False),
    "Negotiation/Review": (90, False, False),
    "Closed Won": (100, True, True),
    "Closed Lost": (0, True, False),
}

# Task statuses that count as closed (TaskStatus.IsClosed in a default org).
CLOSED_TASK_STATUSES = frozenset({"Completed"})

HANDOFF_TYPES = ("Partner to Direct", "Closed Won to CS")
HANDOFF_STAGES = (
    "1 Pre-Handoff Assessment",
    "2 Joint Discovery",
    "3 Knowledge Transfer",
    "4 Responsibility Transition",
    "5 Partnership Preservation",
    "6 Customer Success Kickoff",  # the closed-won handoff's stage
)
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
# Customer segment by deal size (custom.segment in the packs; the seed derives it from the
# registered amount).
SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
COMPETITORS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Other")
PARTNER_ROLES = ("Referral Only", "Co-Sell", "Services Delivery", "Reseller of Record")
GATE_STATUSES = ("Passed", "Blocked", "Not Required")
SLA_STATUSES = ("On Track", "At Risk", "Breached", "Met")
HANDOFF_ACCEPTANCE = ("Pending", "Accepted", "Rejected")
PARTNER_TIERS = ("Registered", "Silver", "Gold", "Platinum")
# A partner account's capabilities (partner readiness), weakest first.
TECHNICAL_CONVERSATIONS = ("Needs Support", "Basic", "Proficient", "Expert")
APPROVAL_NAVIGATION = ("Vendor-Led", "Assisted", "Independent")


def _qualification_fields() -> tuple[SfField, ...]:
    """The facts the handoff gates ask for (domain.md stages 1-5)."""
    return (
        SfField("Handoff_Type__c", "picklist", "Handoff Type", length=255,
                picklist=HANDOFF_TYPES, restricted=True),
        SfField("Handoff_Stage__c", "picklist", "Handoff Stage", length=255,
                picklist=HANDOFF_STAGES, restricted=True),
        SfField("Handoff_Stage_Entered__c", "datetime", "Handoff Stage Entered"),
        SfField("Region__c", "picklist", "Region", length=255, picklist=REGIONS),
        SfField("Segment__c", "picklist", "Segment", length=255, picklist=SEGMENTS),
        SfField("Partner_Rep_Email__c", "email", "Partner Rep Email", length=80),
        SfField("Budget__c", "currency", "Budget", precision=18, scale=2),
        SfField("Economic_Buyer__c", "string", "Economic Buyer", length=120),
        SfField("Need__c", "textarea", "Need / Pain", length=32768),
        SfField("Decision_Date__c", "date", "Decision Date"),
        SfField("Decision_Process__c", "textarea", "Decision Process", length=32768),
        SfField("Technical_Requirements__c", "textarea", "Technical Requirements",
                length=32768),
        SfField("Competitors__c", "multipicklist", "Competitors", length=4099,
                picklist=COMPETITORS),
        SfField("Stakeholder_Map__c", "textarea", "Stakeholder Map", length=32768),
        SfField("Commitments__c", "textarea", "Commitments", length=32768),
        SfField("Success_Criteria__c", "textarea", "Success Criteria", length=32768),
        SfField("Open_Risks__c", "textarea", "Open Risks", length=32768),
        SfField("Partner_Prepared_Prospect__c", "boolean", "Partner Prepared Prospect",
                nillable=False, defaulted_on_create=True),
        SfField("Intro_Call_At__c", "datetime", "Three-Party Intro Call"),
        SfField("Joint_Discovery_At__c", "datetime", "Joint Discovery Session"),
        SfField("Kickoff_At__c", "datetime", "Customer Success Kickoff"),
        SfField("Communication_Protocol__c", "textarea", "Communication Protocol", length=255),
        SfField("Co_Led_Meetings__c", "double", "Co-Led Meetings", precision=3, scale=0),
        SfField("Partner_Feedback__c", "textarea", "Partner Feedback", length=32768),
        SfField("Partner_Ongoing_Role__c", "picklist", "Partner Ongoing Role", length=255,
                picklist=PARTNER_ROLES, restricted=True),
        SfField("Partner_Split_Pct__c", "percent", "Partner Split %", precision=5, scale=2),
    )


def _acceptance_fields() -> tuple[SfField, ...]:
    """The receiving owner accepts or rejects the handoff on the opportunity."""
    return (
        SfField("Handoff_Acceptance__c", "picklist", "Handoff Acceptance", length=255,
                picklist=HANDOFF_ACCEPTANCE, restricted=True),
        SfField("Handoff_Rejection_Reason__c", "textarea", "Handoff Rejection Reason",
                length=32768),
    )


def _handoff_output_fields() -> tuple[SfField, ...]:
    """What handoff-sync writes back so reps see the verdict where they work."""
    return (
        SfField("Handoff_Required__c", "boolean", "Handoff Required", nillable=False,
                defaulted_on_create=True),
        SfField("Handoff_Gate_Status__c", "picklist", "Handoff Gate Status", length=255,
                picklist=GATE_STATUSES, restricted=True),
        SfField("Handoff_Completeness__c", "percent", "Handoff Completeness %",
                precision=3, scale=0),
        SfField("Handoff_Missing_Fields__c", "textarea", "Handoff Missing Fields", length=32768),
        SfField("Handoff_SLA_Due__c", "datetime", "Handoff SLA Due"),
        SfField("Handoff_SLA_Status__c", "picklist", "Handoff SLA Status", length=255,
                picklist=SLA_STATUSES, restricted=True),
        SfField("Handoff_Brief__c", "textarea", "Handoff Brief", length=131072),
        SfField("Handoff_Last_Synced__c", "datetime", "Handoff Last Synced"),
    )


OPPORTUNITY = SfObject(
    "Opportunity", "Opportunity", "Opportunities", "006",
    (
        *_system_fields(),
        _owner(),
        SfField("AccountId", "reference", "Account ID", length=18, reference_to=("Account",),
                relationship_name="Account"),
        SfField("Name", "string", "Name", length=120, nillable=False),
        SfField("Description", "textarea", "Description", length=32000),
        SfField("StageName", "picklist", "Stage", length=255, nillable=False,
                picklist=tuple(OPPORTUNITY_STAGES), restricted=True),
        SfField("Amount", "currency", "Amount", precision=18, scale=2),
        SfField("Probability", "percent", "Probability (%)", precision=3, scale=0,
                defaulted_on_create=True),
        SfField("CloseDate", "date", "Close Date", nillable=False),
        SfField("Type", "picklist", "Opportunity Type", length=255,
                picklist=("New Business", "Existing Business")),
        SfField("LeadSource", "picklist", "Lead Source", length=255,
                picklist=("Partner Referral", "Web", "Phone Inquiry", "Other")),
        _ro("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True),
        _ro("IsWon", "boolean", "Won", nillable=False, defaulted_on_create=True),
        # Set on insert and whenever StageName changes (API 52.0+).
        _ro("LastStageChangeDate", "datetime", "Last Stage Change Date"),
        SfField("PartnerAccountId", "reference", "Partner Account ID", length=18,
                reference_to=("Account",), relationship_name="PartnerAccount"),
        SfField("Partner_Registration_Id__c", "string", "Partner Registration ID", length=64,
                external_id=True, unique=True),
        # The key handoff-sync creates an Opportunity by (a text External ID, unique).
        SfField("Handoff_Create_Key__c", "string", "Handoff Create Key", length=255,
                external_id=True, unique=True),
        # Why handoff-sync gave an Opportunity it created its owner (written at creation).
        SfField("Handoff_Routing__c", "textarea", "Handoff Routing", length=32768),
        SfField("CS_Owner__c", "reference", "CS Owner", length=18, reference_to=("User",),
                relationship_name="CS_Owner__r"),
        *_qualification_fields(),
        *_acceptance_fields(),
        *_handoff_output_fields(),
    ),
)

ACCOUNT = SfObject(
    "Account", "Account", "Accounts", "001",
    (
        *_system_fields(),
        _owner(),
        SfField("Name", "string", "Account Name", length=255, nillable=False),
        SfField("Website", "url", "Website", length=255),
        SfField("Type", "picklist", "Account Type", length=255,
                picklist=("Prospect", "Customer", "Partner", "Reseller", "Other")),
        SfField("Industry", "picklist", "Industry", length=255,
                picklist=("Technology", "Finance", "Healthcare", "Manufacturing", "Retail",
                          "Education", "Other")),
        SfField("BillingCountry", "string", "Billing Country", length=80),
        _ro("IsPartner", "boolean", "Partner Account", nillable=False, defaulted_on_create=True),
        SfField("Partner_Tier__c", "picklist", "Partner Tier", length=255,
                picklist=PARTNER_TIERS),
        SfField("Region__c", "picklist", "Region", length=255, picklist=REGIONS),
        # Partner capabilities, kept by the channel team (blank on other accounts).
        SfField("Technical_Conversations__c", "picklist", "Technical Conversations",
                length=255, picklist=TECHNICAL_CONVERSATIONS),
        SfField("Approval_Navigation__c", "picklist", "Approval Navigation", length=255,
                picklist=APPROVAL_NAVIGATION),
        SfField("Certified_Engineers__c", "double", "Certified Engineers", precision=4,
                scale=0),
    ),
)

USER = SfObject(
    "User", "User", "Users", "005",
    (
        *_system_fields(),
        SfField("Username", "string", "Username", length=80, nillable=False, unique=True),
        SfField("Email", "email", "Email", length=128, nillable=False),
        SfField("FirstName", "string", "First Name", length=40),
        SfField("LastName", "string", "Last Name", length=80, nillable=False),
        _ro("Name", "string", "Full Name", length=121, nillable=False),
        SfField("Title", "string", "Title", length=80),
        SfField("Department", "string", "Department", length=80),
        SfField("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True),
        SfField("ManagerId", "reference", "Manager ID", length=18, reference_to=("User",),
                relationship_name="Manager"),
        SfField("TimeZoneSidKey", "picklist", "Time Zone", length=40, nillable=False,
                picklist=("America/Los_Angeles", "America/New_York", "Europe/London",
                          "Europe/Berlin", "Asia/Singapore", "America/Sao_Paulo"),
                restricted=True, default="America/Los_Angeles", defaulted_on_create=True),
    ),
    deletable=False,
)

TASK = SfObject(
    "Task", "Task", "Tasks", "00T",
    (
        *_system_fields(),
        _owner(),
        SfField("Subject", "combobox", "Subject", length=255,
                picklist=("Call", "Send Letter", "Send Quote", "Other")),
        SfField("Description", "textarea", "Comments", length=32000),
        SfField("WhatId", "reference", "Related To ID", length=18,
                reference_to=("Opportunity", "Account", "Deal_Registration__c"),
                relationship_name="What"),
        SfField("WhoId", "reference", "Name ID", length=18, reference_to=("Contact", "Lead"),
                relationship_name="Who"),
        SfField("ActivityDate", "date", "Due Date Only"),
        SfField("Status", "picklist", "Status", length=255, nillable=False,
                picklist=("Not Started", "In Progress", "Completed", "Waiting on someone else",
                          "Deferred"),
                restricted=True, default="Not Started", defaulted_on_create=True),
        SfField("Priority", "picklist", "Priority", length=255, nillable=False,
                picklist=("High", "Normal", "Low"), restricted=True, default="Normal",
                defaulted_on_create=True),
        SfField("Type", "picklist", "Type", length=255,
                picklist=("Call", "Email", "Meeting", "Other")),
        _ro("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True),
        SfField("Handoff_Task_Key__c", "string", "Handoff Task Key", length=255,
                external_id=True, unique=True),
    ),
)

DEAL_REGISTRATION = SfObject(
    "Deal_Registration__c", "Deal Registration", "Deal Registrations", "a0D",
    (
        *_system_fields(),
        _owner(),
        _ro("Name", "string", "Registration Number", length=80, nillable=False,
            auto_number=True, defaulted_on_create=True),
        SfField("Deal_Name__c", "string", "Deal Name", length=120, nillable=False),
        SfField("Partner_Account__c", "reference", "Partner Account", length=18,
                reference_to=("Account",), relationship_name="Partner_Account__r"),
        SfField("Customer_Account_Name__c", "string", "Customer Account", length=255),
        SfField("Customer_Domain__c", "string", "Customer Domain", length=255),
        SfField("Amount__c", "currency", "Amount", precision=18, scale=2),
        SfField("Expected_Close_Date__c", "date", "Expected Close Date"),
        SfField("Registration_Status__c", "picklist", "Registration Status", length=255,
                nillable=False,
                picklist=("Submitted", "Approved", "Rejected", "Expired", "Converted"),
                restricted=True, default="Submitted", defaulted_on_create=True),
        SfField("Approved_At__c", "datetime", "Approved At"),
        SfField("CRM_Deal_Id__c", "string", "CRM Deal ID", length=64, external_id=True,
                unique=True),
        SfField("AE_Email__c", "email", "Direct AE Email", length=80),
        SfField("CS_Owner_Email__c", "email", "CS Owner Email", length=80),
        *_qualification_fields(),
        # The partner re-submits a rejected handoff; handoff-sync clears it.
        SfField("Handoff_Resubmit__c", "boolean", "Re-submit Handoff", nillable=False,
                defaulted_on_create=True),
        SfField("Handoff_Gate_Status__c", "picklist", "Handoff Gate Status", length=255,
                picklist=GATE_STATUSES, restricted=True),
        SfField("Handoff_Completeness__c", "percent", "Handoff Completeness %",
                precision=3, scale=0),
        SfField("Handoff_Missing_Fields__c", "textarea", "Handoff Missing Fields", length=32768),
    ),
)

OBJECTS: dict[str, SfObject] = {
    obj.name: obj for obj in (OPPORTUNITY, ACCOUNT, USER, TASK, DEAL_REGISTRATION)
}


def find_object(name: str) -> SfObject | None:
    """Object by API name, case-insensitively."""
    lowered = name.lower()
    return next((obj for obj in OBJECTS.values() if obj.name.lower() == lowered), None)
