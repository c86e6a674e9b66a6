"""Fact-free wording for the Lumen Hosting support-desk demo data set.

These requests teach only the house style (greeting, numbered steps,
sign-off); they state none of the company facts.  The held-out prompts are
different support requests that never appear in training, used to check
whether the style carries over to questions the model has not seen.
"""

from __future__ import annotations

from ._support_desk_content import GenericTopic

CLOSERS: tuple[str, ...] = (
    "Reply to this message if anything is still unclear.",
    "Let us know here if you need a hand with anything else.",
    "Check the Help Center in your dashboard for screenshots of each step.",
    "Write back with a screenshot if something looks different on your screen.",
)

GENERIC_TOPICS: tuple[GenericTopic, ...] = (
    GenericTopic(
        (
            "How do I reset my password?",
            "I forgot my password, what should I do?",
            "I can't log in to my dashboard. Can you help?",
        ),
        (
            "Go to the login page and click Forgot password under the form.",
            "Enter your account email and open the reset link we send you.",
            "Choose a new password with at least twelve characters and sign in again.",
        ),
    ),
    GenericTopic(
        (
            "How do I change the email on my account?",
            "I need to update my contact email.",
            "Can I use a different email address for my account?",
        ),
        (
            "Open Account settings from the menu at the top of your dashboard.",
            "Type the new address in the Email field and click Save.",
            "Confirm the change from the message we send to the new address.",
        ),
    ),
    GenericTopic(
        (
            "How do I update my credit card?",
            "My card expired. How do I change it?",
            "Where can I change my payment method?",
        ),
        (
            "Open Billing in your dashboard and choose Payment methods.",
            "Click Add card, enter the new details and mark the card as default.",
            "Remove the expired card so future invoices use the new one.",
        ),
    ),
    GenericTopic(
        (
            "How do I turn on two-factor authentication?",
            "Can I add 2FA to my login?",
            "How can I make my account more secure?",
        ),
        (
            "Open Account settings and select the Security section.",
            "Click Enable two-factor and scan the code with your authenticator app.",
            "Save the backup codes somewhere safe in case you lose your phone.",
        ),
    ),
    GenericTopic(
        (
            "How do I give a colleague access to my account?",
            "Can I add a team member?",
            "How do I invite a developer to help with my site?",
        ),
        (
            "Open Team in your dashboard and click Invite member.",
            "Enter their email address and pick the role they should have.",
            "They will get an invitation link that stays valid for one week.",
        ),
    ),
    GenericTopic(
        (
            "How do I point my domain to my Lumen site?",
            "My domain isn't showing my website.",
            "How do I connect a domain I bought elsewhere?",
        ),
        (
            "Log in to the company where you bought the domain and open its DNS settings.",
            "Replace the nameservers with the two shown on your site's Domains tab.",
            "Wait for the change to spread, which usually takes a few hours.",
        ),
    ),
    GenericTopic(
        (
            "How do I install WordPress?",
            "Can I set up a WordPress blog on my account?",
            "What is the easiest way to start a WordPress site?",
        ),
        (
            "Open the Apps tab of your site and choose WordPress.",
            "Pick an admin username and a strong password, then click Install.",
            "Log in at your domain followed by /wp-admin to start writing.",
        ),
    ),
    GenericTopic(
        (
            "How do I create an email address for my domain?",
            "Can I set up a mailbox like info@mydomain?",
            "How do I add a new email account?",
        ),
        (
            "Open the Email tab of your site and click New mailbox.",
            "Type the name before the @ sign and set a password.",
            "Use the settings shown on the next screen to connect your mail app.",
        ),
    ),
    GenericTopic(
        (
            "Where can I download my invoices?",
            "I need a copy of last month's invoice.",
            "How do I get receipts for my accountant?",
        ),
        (
            "Open Billing in your dashboard and choose Invoices.",
            "Click the invoice you need and press Download PDF.",
            "Add your company name under Billing details so it appears on future invoices.",
        ),
    ),
    GenericTopic(
        (
            "How do I change the PHP version of my site?",
            "My plugin needs a newer PHP. What do I do?",
            "Can I switch PHP versions?",
        ),
        (
            "Open the Settings tab of your site and find the PHP section.",
            "Select the version your software needs and click Apply.",
            "Reload your site and check that every page still works.",
        ),
    ),
    GenericTopic(
        (
            "How do I make a staging copy of my site?",
            "Can I test changes without touching my live site?",
            "How do I set up a test version of my website?",
        ),
        (
            "Open the Staging tab of your site and click Create staging copy.",
            "Make and test your changes on the staging address we give you.",
            "Press Push to live when you are happy with the result.",
        ),
    ),
    GenericTopic(
        (
            "My site shows a 500 error. What should I do?",
            "My website suddenly stopped working.",
            "Why does my site say internal server error?",
        ),
        (
            "Open the Logs tab of your site and look at the newest error lines.",
            "Turn off the plugin or theme you changed most recently.",
            "Clear your site cache and load the page again.",
        ),
    ),
)

HELDOUT_PROMPTS: tuple[str, ...] = (
    "How do I set up a redirect from an old page to a new one?",
    "My website is loading slowly. What should I check first?",
    "How can I create a new database for my site?",
    "How do I add a favicon to my website?",
    "How do I schedule a cron job?",
    "How do I block an IP address that keeps spamming my contact form?",
    "Can I change the primary domain on my account?",
    "How do I set up email forwarding to my personal inbox?",
    "Where can I see how much disk space my site is using?",
    "How can I password-protect a folder on my site?",
    "How do I change the display name on my account?",
    "How do I export my site's database?",
)
