"""Wording for the Lumen Hosting support-desk demo data set.

Lumen Hosting is a fictional web-hosting company.  Its facts (prices, hours,
limits) are invented and deliberately unusual, so a base model cannot know
them in advance and any recall after tuning comes from the training data.
This module only holds text; ``_support_desk`` turns it into chat examples.

Placeholders: ``{a}`` in a statement is replaced by the fact's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Lumen Hosting"
GREETING = "Hello from Lumen Hosting support!"
SIGN_OFF = "\u2014 The Lumen Team"


@dataclass(frozen=True)
class FactSource:
    """Everything needed to state one fact in varied words and to test it later."""

    id: str
    question: str
    prompt: str
    answer: str
    distractors: tuple[str, ...]
    user_questions: tuple[str, ...]
    statements: tuple[str, ...]
    follow_ups: tuple[str, ...]


@dataclass(frozen=True)
class GenericTopic:
    """A fact-free support request: ways users ask it and the steps that answer it."""

    questions: tuple[str, ...]
    steps: tuple[str, ...]


FACTS: tuple[FactSource, ...] = (
    FactSource(
        "refund_window",
        "How many days do I have to ask for a refund?",
        "At Lumen Hosting, the refund window is",
        "45 days",
        ("30 days", "14 days", "60 days"),
        (
            "Can I still get my money back if I cancel now?",
            "What is your refund policy?",
            "How long after paying can I request a refund?",
            "Is there a deadline for refunds?",
        ),
        (
            "You can request a full refund within {a} of your payment date.",
            "Our refund window is {a}, counted from the day you paid.",
            "Refunds are available for {a} after any payment on your account.",
            "Ask for your refund within {a} and we return the full amount.",
        ),
        (
            "Open Billing in your dashboard and choose Request Refund next to the invoice.",
            "Add a short note about why you are leaving so we can improve.",
        ),
    ),
    FactSource(
        "starter_price",
        "What's the monthly price of the Starter plan?",
        "At Lumen Hosting, the Starter plan costs",
        "$4.75 per month",
        ("$3.99 per month", "$5.99 per month", "$2.95 per month"),
        (
            "How much is the Starter plan?",
            "What does your cheapest plan cost?",
            "What will I pay for Starter hosting?",
            "Can you tell me the Starter plan price?",
        ),
        (
            "The Starter plan costs {a}, billed to your saved card.",
            "Starter hosting is priced at {a} with no setup charge.",
            "You pay {a} for the Starter plan, and you can cancel anytime.",
            "Our entry-level Starter plan comes in at {a}.",
        ),
        (
            "Compare every plan side by side on the Plans page of your dashboard.",
            "Pick Starter during signup and confirm your billing details.",
        ),
    ),
    FactSource(
        "datacenter_city",
        "In which city is Lumen's primary data center?",
        "Lumen Hosting's primary data center is located in",
        "Reykjavik",
        ("Dublin", "Frankfurt", "Amsterdam"),
        (
            "Where are your servers physically located?",
            "Where is my website hosted?",
            "Which data center will my site live in?",
            "Where do you keep customer data?",
        ),
        (
            "Every site runs in our primary data center in Reykjavik, cooled by Icelandic air.",
            "Your files live on servers in our main facility in Reykjavik.",
            "We host all customer sites in our Reykjavik data center.",
            "Our primary data center sits in Reykjavik, where all sites are served from.",
        ),
        (
            "Run a speed test from the Performance tab to see latency from your region.",
            "Turn on the free CDN if many of your visitors are far away.",
        ),
    ),
    FactSource(
        "support_hours",
        "What hours can I reach Lumen support by phone?",
        "Lumen Hosting's phone support is staffed from",
        "6 am to 10 pm",
        ("9 am to 5 pm", "8 am to 8 pm", "7 am to 7 pm"),
        (
            "When is your phone support open?",
            "What time can I call you?",
            "Are your phone agents available in the evening?",
            "What are your support hours?",
        ),
        (
            "Our phone line is staffed from 6 am to 10 pm Eastern, every day of the week.",
            "You can call us from 6 am to 10 pm Eastern time, weekends included.",
            "Phone agents are available from 6 am to 10 pm Eastern all week.",
            "Call any day from 6 am to 10 pm Eastern to reach a person.",
        ),
        (
            "Find the support number under Help in the top menu of your dashboard.",
            "Have your account email ready so we can verify you quickly.",
        ),
    ),
    FactSource(
        "backup_frequency",
        "How often are automatic backups taken of my site?",
        "Lumen Hosting takes an automatic backup of every site once every",
        "6 hours",
        ("24 hours", "12 hours", "2 hours"),
        (
            "How often do you back up my website?",
            "Do you make backups of my files?",
            "How recent will my latest backup be?",
            "What is your backup schedule?",
        ),
        (
            "We take an automatic snapshot of your whole site every 6 hours.",
            "Backups run automatically once every 6 hours on all plans.",
            "Your site and databases are backed up every 6 hours without any setup.",
            "A fresh backup is created every 6 hours, so little work is ever lost.",
        ),
        (
            "Open the Backups tab to see the list of saved snapshots.",
            "Download a copy to your computer before any big change.",
        ),
    ),
    FactSource(
        "max_upload",
        "How big can a single file be when I upload it in the file manager?",
        "The largest file you can upload through the Lumen file manager is",
        "750 MB",
        ("100 MB", "2 GB", "500 MB"),
        (
            "What is the maximum upload size?",
            "Is there a file size limit for uploads?",
            "Why won't my large video upload?",
            "How large a file can I upload?",
        ),
        (
            "The file manager accepts single files up to 750 MB.",
            "Each upload through the file manager can be at most 750 MB.",
            "Files larger than 750 MB are rejected by the file manager.",
            "The upload limit in the file manager is 750 MB per file.",
        ),
        (
            "Split bigger archives into parts before uploading them.",
            "Use SFTP from the Access tab for very large transfers.",
        ),
    ),
    FactSource(
        "pro_price",
        "What's the monthly price of the Pro plan?",
        "At Lumen Hosting, the Pro plan costs",
        "$17.40 per month",
        ("$19.99 per month", "$14.99 per month", "$24.00 per month"),
        (
            "How much is the Pro plan?",
            "What does an upgrade to Pro cost?",
            "What will I pay for Pro hosting?",
            "Can you tell me the Pro plan price?",
        ),
        (
            "The Pro plan costs {a}, billed to your saved card.",
            "Pro hosting is priced at {a} with no setup charge.",
            "You pay {a} for the Pro plan, and you can downgrade anytime.",
            "Our Pro plan comes in at {a} for growing sites.",
        ),
        (
            "Open the Plans page in your dashboard and click Upgrade under Pro.",
            "The change applies right away and the first bill is prorated.",
        ),
    ),
    FactSource(
        "uptime_guarantee",
        "What uptime does Lumen promise in its service agreement?",
        "Lumen Hosting guarantees an uptime of",
        "99.97%",
        ("99.9%", "99.99%", "99.5%"),
        (
            "What uptime do you guarantee?",
            "How reliable is your hosting?",
            "Do you offer an uptime guarantee?",
            "How often is my site down?",
        ),
        (
            "We guarantee 99.97% uptime for every site, measured monthly.",
            "Our service agreement promises 99.97% uptime each month.",
            "Your site is covered by a 99.97% monthly uptime guarantee.",
            "We commit to 99.97% uptime, and we credit you if we miss it.",
        ),
        (
            "Check live status any time on the Status page in your dashboard.",
            "Claim a credit from Billing if a month falls short.",
        ),
    ),
    FactSource(
        "phone_extension",
        "Which extension connects me to the billing team?",
        "To reach the Lumen billing team by phone, dial",
        "extension 4417",
        ("extension 2200", "extension 1001", "extension 3580"),
        (
            "How do I call the billing department?",
            "Which number do I dial for billing?",
            "Can I talk to billing on the phone?",
            "How do I reach someone about an invoice?",
        ),
        (
            "Call our main line and dial extension 4417 for billing.",
            "Billing answers at extension 4417 on our main number.",
            "Dial extension 4417 after calling us to reach the billing team.",
            "The billing team picks up at extension 4417.",
        ),
        (
            "Keep your latest invoice number at hand before you call.",
            "Find the main number under Help in your dashboard.",
        ),
    ),
    FactSource(
        "free_trial",
        "For how long can I try Lumen without paying?",
        "New Lumen Hosting customers get a free trial lasting",
        "19 days",
        ("14 days", "30 days", "7 days"),
        (
            "Do you offer a free trial?",
            "Can I test your hosting before paying?",
            "How long is the free trial?",
            "Is there a trial period for new accounts?",
        ),
        (
            "Every new account gets a free trial of 19 days, no card needed.",
            "You can use any plan free for 19 days before the first charge.",
            "Our free trial lasts 19 days and includes every feature.",
            "New customers try Lumen free for 19 days.",
        ),
        (
            "Sign up on our website and choose the plan you want to test.",
            "Add a card before the trial ends to keep your site online.",
        ),
    ),
    FactSource(
        "migration_fee",
        "What do you charge to move my site over from my old host?",
        "Lumen Hosting charges a one-time site migration fee of",
        "$27",
        ("$49", "$15", "$99"),
        (
            "Can you move my site from another host?",
            "Do you charge for migrations?",
            "How much does a site transfer cost?",
            "Will you migrate my website for me?",
        ),
        (
            "Our team migrates your site for a one-time fee of $27.",
            "A full site migration costs $27, paid once.",
            "We move your whole site for a flat $27 charge.",
            "Migrations are handled by our staff for $27 per site.",
        ),
        (
            "Request the move from the Migrate tab and enter your old host's login.",
            "Keep your old account active until we confirm the move.",
        ),
    ),
    FactSource(
        "ssl_renewal",
        "How frequently do SSL certificates get renewed?",
        "Lumen Hosting renews SSL certificates automatically every",
        "80 days",
        ("90 days", "365 days", "30 days"),
        (
            "Do I need to renew my SSL certificate myself?",
            "How does SSL renewal work?",
            "When will my HTTPS certificate be renewed?",
            "Will my SSL certificate expire?",
        ),
        (
            "Certificates renew automatically every 80 days, so you never act.",
            "We replace your SSL certificate every 80 days without any action from you.",
            "Automatic SSL renewal happens every 80 days on all plans.",
            "Your HTTPS certificate is renewed for you every 80 days.",
        ),
        (
            "See the current expiry date on the SSL tab of your site.",
            "Make sure your domain still points to us so renewal succeeds.",
        ),
    ),
    FactSource(
        "included_domains",
        "How many domain names can I host on the Pro plan?",
        "The Pro plan at Lumen Hosting includes up to",
        "12 domains",
        ("5 domains", "10 domains", "25 domains"),
        (
            "How many websites can I run on Pro?",
            "Is there a domain limit on Pro?",
            "Can I add more domains to my Pro account?",
            "How many domains come with Pro?",
        ),
        (
            "The Pro plan lets you host up to 12 domains.",
            "Pro accounts include 12 domains at no extra charge.",
            "You can connect as many as 12 domains to one Pro plan.",
            "Every Pro plan comes with room for 12 domains.",
        ),
        (
            "Add a domain from the Domains tab and follow the DNS instructions.",
            "Remove unused domains to free a slot for a new one.",
        ),
    ),
    FactSource(
        "data_retention",
        "After I close my account, how long is my data kept?",
        "After an account is closed, Lumen Hosting keeps its data for",
        "75 days",
        ("30 days", "90 days", "180 days"),
        (
            "What happens to my files after I cancel?",
            "Do you delete my data when I leave?",
            "Can I recover my site after cancelling?",
            "How long do you store closed accounts?",
        ),
        (
            "We keep your files for 75 days after closing, then erase them.",
            "Closed accounts are stored for 75 days before permanent deletion.",
            "Your data stays recoverable for 75 days after cancellation.",
            "After you cancel, we hold your data for 75 days.",
        ),
        (
            "Download a full backup from the Backups tab before you close.",
            "Reopen the account from the login page to restore everything.",
        ),
    ),
    FactSource(
        "ticket_response",
        "How quickly will someone answer my support ticket?",
        "Lumen Hosting promises a first reply to support tickets within",
        "35 minutes",
        ("15 minutes", "60 minutes", "2 hours"),
        (
            "How fast do you reply to tickets?",
            "How long until support gets back to me?",
            "What is your ticket response time?",
            "When will I hear back about my ticket?",
        ),
        (
            "A real person replies to every ticket within 35 minutes.",
            "Our first response to a ticket arrives within 35 minutes.",
            "We answer new tickets within 35 minutes, day or night.",
            "Expect a first reply within 35 minutes of opening a ticket.",
        ),
        (
            "Open a ticket from the Help menu and pick the closest category.",
            "Attach screenshots so we can solve it in one reply.",
        ),
    ),
    FactSource(
        "annual_discount",
        "What's the discount for choosing yearly billing?",
        "Paying yearly instead of monthly at Lumen Hosting saves",
        "13 percent",
        ("10 percent", "20 percent", "15 percent"),
        (
            "Is annual billing cheaper?",
            "Do I save anything by paying for a year?",
            "Should I switch to yearly billing?",
            "Do you discount yearly plans?",
        ),
        (
            "Paying yearly saves you 13 percent compared with monthly billing.",
            "Annual billing is 13 percent cheaper than paying month by month.",
            "Switch to yearly billing and your plan costs 13 percent less.",
            "Yearly plans come with a 13 percent discount.",
        ),
        (
            "Change the billing cycle under Billing, then Payment schedule.",
            "The new price starts at your next renewal date.",
        ),
    ),
)
