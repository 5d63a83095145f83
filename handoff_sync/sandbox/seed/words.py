"""The words the generator draws names and texts from: people, companies, initiatives,
qualification answers, notes and task subjects."""

from __future__ import annotations

FIRST_NAMES = (
    "Dana", "Raj", "Maria", "James", "Aisha", "Tom", "Elena", "Kenji", "Priya", "Lucas",
    "Sofia", "Omar", "Hannah", "Diego", "Mei", "Noah", "Fatima", "Liam", "Chloe", "Arjun",
    "Grace", "Mateo", "Zoe", "Ethan", "Nadia", "Felix", "Amara", "Leo", "Ingrid", "Samuel",
    "Yuki", "Carmen", "Daniel", "Leila", "Marcus", "Anya", "Victor", "Rosa", "Kwame", "Emily",
    "Hugo", "Sara", "Tariq", "Julia", "Oliver", "Mina", "Pablo", "Erin", "Jonas", "Lena",
    "Andre", "Keiko", "Ravi", "Clara", "Ben", "Ines", "Malik", "Nora", "Theo", "Olga",
)
LAST_NAMES = (
    "Whitfield", "Patel", "Garcia", "Okafor", "Nakamura", "Schmidt", "Rossi", "Chen",
    "Kowalski", "Haddad", "Silva", "Johansson", "Murphy", "Dubois", "Kim", "Novak",
    "Ferreira", "Andersen", "Brennan", "Castillo", "Iyer", "Larsen", "Moreau", "Osei",
    "Petrov", "Quinn", "Reyes", "Sato", "Tanaka", "Varga", "Walsh", "Yilmaz", "Zhang",
    "Abbott", "Baker", "Carter", "Delgado", "Ellis", "Fischer", "Grant", "Holm", "Ibarra",
    "Jensen", "Keller", "Lindqvist", "Mendes", "Nguyen", "O'Neill", "Park", "Romero",
    "Stone", "Torres", "Ueda", "Vance", "Weber", "Xu", "Young", "Zamora", "Hughes", "Marsh",
)
NAME_PREFIXES = (
    "North", "South", "Blue", "Silver", "Iron", "Bright", "Clear", "Red", "Oak", "Stone",
    "River", "Sun", "Star", "Pine", "Cedar", "Maple", "Eagle", "Falcon", "Harbor", "Summit",
    "Golden", "Green", "Grey", "Swift", "Crystal", "Copper", "Granite", "Lake", "Ocean",
    "Prairie", "High", "Silk", "Amber", "Ash", "Birch", "Cobalt", "Coral", "Elm", "Fern",
    "Frost", "Hazel", "Ivory", "Jade", "Lantern", "Meadow", "Moss", "Nova", "Orchard",
    "Pebble", "Quartz",
)
NAME_SUFFIXES = (
    "wind", "field", "stone", "brook", "ridge", "gate", "point", "crest", "view", "way",
    "line", "bridge", "wood", "vale", "haven", "peak", "light", "water", "land", "ford",
    "port", "shore", "side", "mark", "well", "dale", "hill", "rock", "star", "leaf", "bay",
    "spring", "path", "fall", "glen", "moor", "wick", "ton", "bury", "mont",
)
# Customer name nouns -> (Salesforce Industry, HubSpot industry option value).
CUSTOMER_NOUNS: tuple[tuple[str, str, str], ...] = (
    *((n, "Technology", "COMPUTER_SOFTWARE") for n in (
        "Software", "Systems", "Analytics", "Labs", "Networks", "Data", "Robotics")),
    *((n, "Finance", "FINANCIAL_SERVICES") for n in (
        "Capital", "Bank", "Insurance", "Financial", "Payments", "Credit Union", "Wealth")),
    *((n, "Healthcare", "HOSPITAL_HEALTH_CARE") for n in (
        "Health", "Medical", "Clinics", "Pharma", "Biosciences", "Care")),
    *((n, "Manufacturing", "MACHINERY") for n in (
        "Manufacturing", "Industries", "Motors", "Steel", "Plastics", "Components",
        "Aerospace")),
    *((n, "Retail", "RETAIL") for n in (
        "Retail", "Foods", "Outfitters", "Markets", "Apparel", "Home Goods")),
    *((n, "Education", "EDUCATION_MANAGEMENT") for n in (
        "Academy", "University", "Learning", "Schools")),
    *((n, "Other", "OTHER") for n in (
        "Logistics", "Energy", "Media", "Hospitality", "Construction", "Utilities",
        "Freight", "Telecom")),
)
# Appended only once the plain names run out (very large seeds).
NAME_QUALIFIERS = ("", " Group", " Holdings", " International", " Co", " Global",
                   " Worldwide", " Americas", " Europe", " Pacific")
PARTNER_NOUNS = (
    "Consulting", "Solutions", "Advisory", "Integrators", "IT Services", "Technologies",
    "Cloud Partners", "Digital Partners", "Tech Group", "Systems Integration",
    "Managed Services", "Consultancy",
)
INITIATIVES = (
    "Billing Platform", "Data Warehouse Migration", "Customer Portal", "Field Service Rollout",
    "Security Upgrade", "Analytics Suite", "ERP Integration", "Contact Center Modernization",
    "Supply Chain Visibility", "HR Platform Consolidation", "Procurement Automation",
    "Cloud Migration", "E-commerce Replatform", "Identity Management",
    "Payments Modernization", "Inventory Optimization", "Partner Portal",
    "Compliance Reporting", "Marketing Automation", "Mobile App Rollout", "Network Refresh",
    "Backup and Recovery", "Fleet Telematics", "Patient Engagement", "Claims Processing",
    "Learning Platform", "Revenue Recognition", "Quote-to-Cash", "Service Desk Replacement",
    "Document Management", "Warehouse Automation", "Pricing Engine", "Data Governance",
    "Customer 360", "Expense Management", "Observability Stack", "Endpoint Security",
    "Loyalty Program", "Forecasting Platform", "Order Management",
)
COUNTRIES = {
    "NA": ("United States", "United States", "United States", "Canada"),
    "EMEA": ("United Kingdom", "Germany", "France", "Netherlands", "Sweden", "Spain"),
    "APAC": ("Singapore", "Australia", "Japan", "India"),
    "LATAM": ("Brazil", "Mexico", "Chile", "Colombia"),
}
TIME_ZONES = {
    "NA": ("America/New_York", "America/Los_Angeles"),
    "EMEA": ("Europe/London", "Europe/Berlin"),
    "APAC": ("Asia/Singapore",),
    "LATAM": ("America/Sao_Paulo",),
}
WEBSITE_FORMS = ("https://www.{}", "https://www.{}", "www.{}", "https://{}", "http://{}/")
BUYER_TITLES = ("CFO", "CIO", "COO", "CTO", "VP Finance", "VP Operations", "Head of IT",
                "CEO", "VP Customer Experience", "Chief Digital Officer")
CHAMPION_TITLES = ("Director of Billing Ops", "IT Program Manager", "Head of Procurement",
                   "Finance Systems Lead", "Director of Operations", "Enterprise Architect",
                   "Controller")
BLOCKERS = ("IT security lead", "the incumbent vendor's sponsor in finance",
            "procurement director", "head of the internal platform team", "none identified")
EVALUATION_TEAMS = ("finance", "IT", "operations", "customer support", "procurement")
NEEDS = (
    "Consolidate three legacy billing systems before FY{fy}",
    "Cut month-end close from 12 to 5 days",
    "Replace an end-of-life on-prem ERP module before support ends in FY{fy}",
    "Give field technicians real-time inventory on mobile",
    "Meet new audit requirements for revenue reporting",
    "Reduce customer churn by unifying support channels",
    "Scale order volume 3x without adding headcount",
    "Retire spreadsheet-based forecasting across 14 regions",
    "Pass the SOC 2 audit with centralized access reviews",
    "Lower cloud spend by 20% through usage visibility",
    "Launch a self-service portal for 40k B2B customers",
    "Integrate two acquired companies onto one platform by FY{fy}",
)
DECISION_PROCESSES = (
    "Steering committee review, then CFO sign-off; legal redlines in parallel",
    "Technical evaluation by IT, business case to the COO, board approval above 250k",
    "Procurement RFP with three vendors; final pick by the CIO",
    "Pilot in one region, go/no-go by VP Operations, then group rollout",
    "Security review first, then budget release at quarterly planning",
    "Champion builds the business case; CFO and CEO approve together",
    "Shortlist in two weeks, reference calls, contract through procurement",
    "IT architecture board, then finance committee; legal takes about 3 weeks",
)
TECH_REQUIREMENTS = (
    "SSO via Okta, EU data residency, REST API to SAP S/4HANA",
    "Azure AD SSO, SCIM provisioning, nightly export to Snowflake",
    "Integration with Salesforce and NetSuite; 99.9% uptime SLA",
    "On-prem connector for Oracle EBS; audit logs kept 7 years",
    "HIPAA-compliant hosting, BAA required, HL7 feed from the EHR",
    "Multi-currency, 12 legal entities, SAML SSO",
    "Offline mode for field staff; device management via Intune",
    "Webhooks into ServiceNow; data stays in the AU region",
    "Read replica for BI; customer-managed encryption keys",
    "500 API requests/s at peak; a sandbox per business unit",
)
COMMITMENTS = (
    "Pilot pricing held until quarter end; free sandbox for 60 days",
    "Named solution engineer during rollout; weekly status calls",
    "Migration of 5 years of history included in the fee",
    "Quarterly executive business reviews with the vendor VP",
    "Custom SAP connector delivered before go-live",
    "Partner keeps first-line support for 12 months",
    "Price locked for 3 years, renewal uplift capped at 5%",
    "Training for 40 admins and 400 end users included",
)
SUCCESS_CRITERIA = (
    "Invoices issued from one system within 90 days; DSO down 5 days",
    "80% of field technicians active weekly by day 60",
    "Month-end close under 6 days by the second quarter",
    "Support ticket backlog halved within 90 days",
    "All 14 regions forecasting in the platform by day 90",
    "Zero audit findings on access reviews at the next SOC 2",
    "Self-service portal handles 30% of orders within 3 months",
    "Go-live on schedule with fewer than 10 P1 incidents",
)
OPEN_RISKS = (
    "Budget freeze possible in Q3; incumbent offering a steep renewal discount",
    "Champion is changing roles next quarter",
    "IT team stretched by a parallel ERP project",
    "Legal insists on unlimited liability; may stall signature",
    "Legacy data quality is poor; migration may slip",
    "Competitor already piloting in one business unit",
    "New CFO starts next month and may reopen the decision",
    "Security review queue is 6 weeks long",
)
PROTOCOLS = (
    "Partner cc'd on all exec emails; weekly joint sync Tuesdays; AE leads pricing calls",
    "AE owns the account from the intro; partner joins technical sessions only",
    "Joint weekly call until contract; partner cc'd on all customer threads",
    "Partner leads the relationship, AE leads commercials; shared Slack channel",
    "Bi-weekly three-way sync; partner copied on proposals and SOWs",
    "AE is the single point of contact; partner updated in Friday recap emails",
)
FEEDBACK = (
    "Smooth intro; AE responsive; want earlier visibility of pricing",
    "Handoff took too long; customer asked twice who owns the deal",
    "Great joint discovery; keep us in the QBRs",
    "AE changed mid-deal; context had to be re-explained",
    "Clear split agreed early; would co-sell again",
    "Customer happy; partner wants the services scope confirmed",
    "Commission split still unclear after close",
    "Strong SE support; proposal turnaround was slow",
)
REJECTION_NOTES = ("Rejected: duplicate of an existing opportunity",
                   "Rejected: customer outside the partner's territory",
                   "Rejected: below the program's minimum deal size")
EXPIRY_NOTE = "Expired: no qualifying activity within 90 days"
SF_TASK_SUBJECTS = ("Call", "Send Quote", "Send Letter", "Other", "Follow up on pricing",
                    "Check in after the demo", "Send security questionnaire",
                    "Confirm legal contact")
HS_TASK_SUBJECTS = ("Follow up on pricing", "Send case studies", "Schedule demo with IT",
                    "Confirm budget owner", "Chase signed order form", "Prepare QBR deck")
