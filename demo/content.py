"""What the demo desk contains: its queues with their agents, topics, replies and notes, and the customers' lines.

Plain data: demo.desk creates the queues and people from it, demo.tickets writes the tickets' stories with it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    subject: str
    opening: str  # the customer's first message
    answer: str  # the agent's solution


@dataclass(frozen=True)
class QueueSpec:
    name: str
    slug: str
    reply_from_email: str
    business_hours: bool  # the Berlin office calendar; False = 24/7
    weight: int  # share of the tickets
    agents: tuple[tuple[str, str, str], ...]  # (username, first name, last name); the first one is the lead
    topics: tuple[Topic, ...]
    questions: tuple[str, ...]  # the agent asks the customer for details
    notes: tuple[str, ...]  # internal notes
    hold_reply: str  # the reply when waiting on a third party


QUEUES = (
    QueueSpec(
        name="Billing",
        slug="billing",
        reply_from_email="billing@support.example.com",
        business_hours=True,
        weight=35,
        agents=(("sophie.wagner", "Sophie", "Wagner"), ("liam.fischer", "Liam", "Fischer")),
        topics=(
            Topic(
                "Charged twice this month",
                "My card was charged twice (€{amount} each) for invoice INV-{number}. Could you refund the duplicate?",
                "You're right: the second charge was a retry our payment provider should have voided. I've refunded "
                "€{amount}; depending on your bank it shows up within 5–10 business days.",
            ),
            Topic(
                "Please add our VAT ID to the invoices",
                "Our invoices are missing our VAT ID, so our accountant can't book them. The ID is DE{number}1234.",
                "I've added the VAT ID to your billing profile and re-issued invoice INV-{number}; the corrected PDF "
                "is under Settings → Billing → Invoices.",
            ),
            Topic(
                "Where can I download old invoices?",
                "I need all our invoices from last year for the tax office. Can I download them at once?",
                "Every invoice is under Settings → Billing → Invoices; the Export button gives you a ZIP of all PDFs "
                "for the period you choose.",
            ),
            Topic(
                "Discount for switching to annual billing?",
                "We've been on the monthly plan for a while. Is there a discount if we switch to annual billing?",
                "Annual billing gives you two months free. I've prepared the switch for your next renewal, and the "
                "unused part of this month is credited.",
            ),
            Topic(
                "Card declined although it is valid",
                "Our renewal failed with 'card declined', but the card works everywhere else. What's going on?",
                "Your bank asked for a 3-D Secure confirmation, which can't happen on an automatic renewal. I've sent "
                "you a payment link: after confirming once, future renewals go through.",
            ),
            Topic(
                "Refund for seats we no longer use",
                "We reduced our team from 15 to 10 people last month. Can we get a refund for the unused seats?",
                "I've reduced your subscription to 10 seats and credited €{amount} for the unused ones; it is "
                "deducted from your next invoice.",
            ),
            Topic(
                "Wrong billing address on invoice INV-{number}",
                "We moved offices and invoice INV-{number} still shows the old address. Can you correct it?",
                "Done: the billing address is updated and a corrected copy of INV-{number} is in your account. "
                "Future invoices use the new address.",
            ),
            Topic(
                "Cancel our subscription at the end of the term",
                "We're moving to another tool. Please cancel our subscription at the end of the term.",
                "I've turned off the renewal: your account stays active until the end of the term and no further "
                "charges are made. You can export your data under Settings → Export until then.",
            ),
        ),
        questions=(
            "Could you send us the last four digits of the card and the date of the charge?",
            "Which invoice number is this about? You'll find it at the top right of the PDF.",
            "Could you confirm the company name and address exactly as they should appear on the invoice?",
        ),
        notes=(
            "Checked the payment provider dashboard: the charge is captured, a refund is possible.",
            "Customer is on a legacy price plan, check with finance before changing anything.",
            "Finance confirmed the credit note, OK to go ahead.",
        ),
        hold_reply="I've asked our finance team to look into this; they usually answer within two business days. "
        "I'll get back to you as soon as I hear from them.",
    ),
    QueueSpec(
        name="Technical Support",
        slug="technical-support",
        reply_from_email="help@support.example.com",
        business_hours=False,
        weight=45,
        agents=(("priya.nair", "Priya", "Nair"), ("jonas.becker", "Jonas", "Becker")),
        topics=(
            Topic(
                "Can't log in after resetting my password",
                "I reset my password this morning, but the login page keeps saying 'invalid credentials'.",
                "Your account was locked after several failed attempts, so even the new password was refused. I've "
                "unlocked it; please try again with the newest reset link.",
            ),
            Topic(
                "CSV export times out",
                "Exporting our tickets as CSV never finishes: after a minute the page shows a timeout error.",
                "Large exports now run in the background: choose Export again and you'll get an email with the "
                "download link when the file is ready, usually within a few minutes.",
            ),
            Topic(
                "Webhook deliveries fail with 401",
                "Since yesterday every webhook delivery to our endpoint shows status 401. Nothing changed on our side.",
                "The webhook secret was rotated when the API keys were regenerated yesterday. Update the secret on "
                "your endpoint from Settings → Webhooks and use Redeliver for the failed events.",
            ),
            Topic(
                "Two-factor codes are not accepted",
                "My authenticator app's codes are rejected every time, so I can't get into my account.",
                "The codes depend on your phone's clock, which is a few minutes off. Turn on automatic date and time "
                "on the phone and try again.",
            ),
            Topic(
                "Dashboard very slow since this morning",
                "The dashboard takes 20–30 seconds to load since this morning. Other pages are fine.",
                "A report widget was recalculating a whole year of data on every load. We've fixed its caching, so "
                "the dashboard loads in a second or two again.",
            ),
            Topic(
                "API returns 429 Too Many Requests",
                "Our nightly sync gets '429 Too Many Requests' after a few hundred calls. We changed nothing.",
                "Your sync sends about 20 requests per second, above the limit of 10. Please honour the Retry-After "
                "header, or use the bulk endpoint, which returns 100 records per call.",
            ),
            Topic(
                "Notification emails not arriving",
                "Our team stopped receiving notification emails two days ago. Nothing in spam either.",
                "Your mail server rejects our messages since a new SPF policy on your domain. Please add "
                "include:mail.support.example.com to the SPF record; we've re-sent the last two days' notifications.",
            ),
            Topic(
                "SSO login loops back to the start page",
                "Since we switched on single sign-on with Azure AD, users end up in a loop back to the login page.",
                "The reply URL in your Azure app registration ends with a slash and ours doesn't, so the sign-in "
                "response is dropped. Remove the trailing slash in Azure and the login completes.",
            ),
            Topic(
                "Mobile app crashes on start",
                "The Android app crashes right after the splash screen since the last update (Pixel 7, Android 14).",
                "This was a bug in version 4.2.0 with some phone languages. Version 4.2.1 with the fix is in the "
                "Play Store now; please update.",
            ),
        ),
        questions=(
            "Could you send us a screenshot of the error and the time it happened (with time zone)?",
            "Which browser and version are you using? Does it also happen in a private window?",
            "Could you share the request ID from the error response? It starts with 'req_'.",
        ),
        notes=(
            "Reproduced on staging with the customer's settings.",
            "Looks like the known issue from last week's release; linked the engineering ticket.",
            "Logs show repeated 401s from their IP range since yesterday 14:00 UTC.",
        ),
        hold_reply="I've reproduced the problem and handed it to our engineering team. I'm putting this ticket on "
        "hold while they work on a fix and will update you as soon as it's deployed.",
    ),
    QueueSpec(
        name="Onboarding",
        slug="onboarding",
        reply_from_email="onboarding@support.example.com",
        business_hours=True,
        weight=20,
        agents=(("carla.mendes", "Carla", "Mendes"), ("tom.eriksen", "Tom", "Eriksen")),
        topics=(
            Topic(
                "Importing our customer list from a spreadsheet",
                "We'd like to import about {number} customers from an Excel file. What format do you need?",
                "Save the sheet as CSV with the columns name, email and (optionally) company, then use Customers → "
                "Import. The importer shows a preview before anything is saved.",
            ),
            Topic(
                "Setting up roles for our team",
                "We're setting up the account for 8 people. How do we make sure only team leads change settings?",
                "Invite everyone as agents and give your team leads the Lead role under Settings → Team. Only admins "
                "and leads can change queue settings.",
            ),
            Topic(
                "Training session for our new staff",
                "Four new colleagues start next month. Do you offer an onboarding training?",
                "Of course! I've booked a one-hour online training on the date you suggested; the invitation with the "
                "video link is on its way.",
            ),
            Topic(
                "Sending emails from our own domain",
                "Customers see replies coming from your domain. Can they come from our own support address instead?",
                "Yes: add the two DNS records shown under Settings → Email → Domains. Once they're verified, usually "
                "within an hour, replies are sent from your address.",
            ),
            Topic(
                "Migrating from our old helpdesk",
                "We're moving from another helpdesk tool with about {number} old tickets. Can we bring them along?",
                "Send us an export from the old tool (CSV or JSON) and we'll run the migration on a test copy first, "
                "so you can check the result before we import it.",
            ),
            Topic(
                "Which plan fits a team of 12?",
                "We're a team of 12 and need business hours and reporting. Which plan should we choose?",
                "The Team plan fits best for 12 agents with business hours and reporting. I've extended your trial by "
                "a week so you can try the reports.",
            ),
            Topic(
                "Can we extend our trial?",
                "Our trial ends on Friday, but half the team was on holiday. Could we get a little more time?",
                "I've extended your trial by 14 days. Your settings and test tickets stay as they are when you "
                "upgrade.",
            ),
            Topic(
                "Setting up business hours and holidays",
                "Our office is open 9–17 on weekdays. How do we make response times count only those hours?",
                "Create a business calendar under Settings → Calendars with your opening hours and country holidays, "
                "then choose it in each queue. Reports then count business hours only.",
            ),
        ),
        questions=(
            "Could you tell us how many people will use the account and which plan you're on?",
            "Could you send us a few sample rows of the file (without real customer data)?",
            "Which date and time would suit your team best?",
        ),
        notes=(
            "Customer is in the trial, a good candidate for the Team plan.",
            "Sales already promised a free training session, see the CRM note.",
            "Migration test run done, 3 tickets with broken attachments; mention it in the reply.",
        ),
        hold_reply="I've asked our migration team to prepare this; they need a couple of days. I'm keeping the ticket "
        "on hold until then and will update you here.",
    ),
)

ACKS = (
    "Thanks for reaching out. We're looking into it and will get back to you shortly.",
    "Thanks, I've got your message and I'm checking this with the team now.",
)
DUPLICATE_REPLY = (
    "It looks like this request reached us twice; we'll continue in your other ticket, so I'm closing this one."
)
REOPEN_REPLIES = (
    "Thanks for letting us know. Something on our side undid the earlier fix; it's corrected again now.",
    "Sorry about that! I've had another look and fixed the remaining part as well.",
)
CUSTOMER_DETAILS = (
    "Sure, here you go: it happened yesterday around 3 pm, screenshot attached.",
    "Here are the details you asked for. Let me know if you need anything else.",
    "I've checked again, see the information below. Hope that helps!",
)
CUSTOMER_NUDGES = (
    "Any news on this? It's blocking our team.",
    "Just checking in: is there an update?",
)
CUSTOMER_THANKS = (
    "That worked, thank you so much!",
    "Perfect, everything looks right now. Thanks for the quick help!",
    "Great, thanks. You can close this.",
)
CUSTOMER_REOPENS = (
    "Sorry to come back to this, but the problem is back since this morning.",
    "This worked for a few days, but now we see the same thing again.",
)
SPAM = (
    Topic("Boost your website traffic by 300%!!!", "Dear Sir/Madam, we offer guaranteed first-page rankings.", ""),
    Topic("Business proposal: urgent and confidential", "I have a lucrative proposal for you. Reply for details.", ""),
    Topic("Your mailbox is almost full", "Click the link below within 24 hours to keep receiving email.", ""),
)
FIRST_NAMES = (
    "Anna", "Ben", "Chloé", "David", "Elif", "Felix", "Grace", "Hannah", "Ibrahim", "Julia", "Kenji", "Lena",
    "Marco", "Nora", "Oliver", "Paula", "Rafael", "Sara", "Tobias", "Uma", "Viktor", "Wei", "Yasmin", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Almeida", "Bauer", "Costa", "Dubois", "Evans", "Fontaine", "García", "Hansen", "Ito", "Jansen", "Kowalski",
    "Lindqvist", "Meyer", "Novak", "O'Brien", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Ujvári", "Vogel",
)  # fmt: skip
MAIL_DOMAINS = ("northwind.example", "globex.example", "initech.example", "umbrella.example", "example.com")
ASCII = str.maketrans({"é": "e", "í": "i", "á": "a", "'": ""})
