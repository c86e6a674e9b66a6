"""Fact-free wording for the Lumen Hosting support-desk demo data set.

These requests teach only the house style (greeting, numbered steps,
sign-off); they state none of the company facts.  The held-out prompts are
different support requests that never appear in training, used to check
whether the style carries over to questions the model has not seen: a seeded
generator (``heldout_prompts``) draws them from a pool of distinct requests
(how-to tasks and problem reports across the product, a few hundred in all), so
the pattern metrics can have as many paired items as a budget asks for without
asking any question twice.
"""

from __future__ import annotations

import random

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


# Held-out support requests: none is asked in training (neither a generic topic above nor a
# fact's question), and none asks for a company fact, so a reply shows the house style alone.
# Each group is one part of the product; each entry is one distinct request, phrased later
# with one of the framings below. "How do I {task}?" must read as a sentence for every task.
HOWTO_TASKS: tuple[tuple[str, ...], ...] = (
    (  # databases
        "create a new MySQL database",
        "delete a database I no longer use",
        "rename one of my databases",
        "export my site's database to an SQL file",
        "import an SQL dump into a database",
        "repair a database table that is marked as crashed",
        "give a second user access to a database",
        "open phpMyAdmin for one of my databases",
    ),
    (  # subdomains
        "create a subdomain like shop.example.com",
        "delete a subdomain",
        "point a subdomain to a different folder",
        "redirect a subdomain to my main domain",
        "give a subdomain its own PHP settings",
    ),
    (  # redirects
        "set up a redirect from an old page to a new one",
        "send every visitor from http to https",
        "redirect www to the bare domain",
        "remove a redirect that no longer works",
        "set up a temporary 302 redirect",
        "redirect a whole folder to another site",
    ),
    (  # FTP
        "create an FTP account for my web designer",
        "change the password of an FTP account",
        "limit an FTP account to one folder",
        "delete an FTP account",
        "find the FTP server address for my site",
    ),
    (  # scheduled tasks
        "schedule a cron job",
        "run a PHP script every night at midnight",
        "see the output of a cron job",
        "pause a cron job without deleting it",
        "change how often a cron job runs",
    ),
    (  # email handling
        "set up email forwarding to my personal inbox",
        "forward one address to several people",
        "stop forwarding an address",
        "set up an auto-reply while I am on holiday",
        "create a catch-all address for my domain",
        "add a spam filter rule to a mailbox",
        "read my mail in a web browser",
        "move my old emails from Gmail into my new mailbox",
    ),
    (  # DNS
        "add a TXT record to verify my domain with Google",
        "add an MX record for an outside mail service",
        "change the TTL of a DNS record",
        "add a CNAME record",
        "check whether my DNS changes have spread",
        "delete an old A record",
        "add an SPF record so my mail is not marked as spam",
    ),
    (  # files
        "edit a file directly in the file manager",
        "unzip an archive in the file manager",
        "change the permissions of a file to 644",
        "get back a file I deleted yesterday",
        "see which folders take the most disk space",
        "password-protect a folder on my site",
        "hide a folder from search engines",
        "find where my website's files are stored",
    ),
    (  # site settings
        "change the time zone of my site",
        "turn on gzip compression",
        "increase the PHP memory limit",
        "show PHP errors on screen while I debug",
        "add a custom 404 page",
        "add a favicon to my website",
        "upload my own robots.txt file",
        "set a default page other than index.html",
    ),
    (  # performance and statistics
        "clear the server cache of my site",
        "turn off caching while I edit my site",
        "find out why my website is loading slowly",
        "see how many visitors my site gets",
        "read the access logs of my site",
        "see how much bandwidth my site used this month",
        "check how much disk space my site is using",
    ),
    (  # security
        "block an IP address that keeps spamming my contact form",
        "block visitors from one country",
        "scan my site for malware",
        "see a list of recent logins to my account",
        "turn on the web application firewall",
        "sign out every other session on my account",
        "add a CAPTCHA to my contact form",
    ),
    (  # the account
        "change the display name on my account",
        "change the primary domain on my account",
        "transfer my account to a new owner",
        "change the language of my dashboard",
        "update the postal address on my account",
        "add a VAT number to my invoices",
        "download a copy of all my account data",
        "get account alerts by text message",
        "switch my dashboard to dark mode",
    ),
    (  # WordPress, beyond installing it
        "update all my WordPress plugins at once",
        "reset my WordPress admin password",
        "disable a WordPress plugin without logging in",
        "change the address of my WordPress site",
        "turn on automatic WordPress updates",
        "remove a WordPress installation",
        "move my WordPress site to a new domain",
    ),
    (  # certificates
        "force HTTPS on every page of my site",
        "install an SSL certificate I bought elsewhere",
        "fix mixed content warnings after moving to HTTPS",
        "add a certificate to a new subdomain",
    ),
    (  # developers
        "deploy my site from a Git repository",
        "connect to my account over SSH",
        "add an SSH key to my account",
        "run Composer on my site",
        "host a Node.js app",
        "set environment variables for my app",
        "choose the Python version for my app",
        "restart my app after a change",
    ),
    (  # domains
        "transfer a domain to you from another registrar",
        "renew a domain before it expires",
        "turn on WHOIS privacy for my domain",
        "park a second domain on my site",
        "remove a domain from my account",
        "unlock my domain for a transfer",
        "change the contact details of my domain",
    ),
    (  # backups, restoring from them
        "restore my whole site from a backup",
        "restore a single file from a backup",
        "restore only my database from a backup",
        "download a backup to my computer",
        "make a manual backup before a big update",
    ),
    (  # mailboxes
        "change the password of a mailbox",
        "delete a mailbox",
        "add a signature to my webmail",
        "set up my mailbox on an iPhone",
        "create a mailing list for my customers",
        "find out why an email was not delivered",
        "share a calendar with my team",
    ),
    (  # team members
        "remove a team member's access",
        "change a team member's role",
        "see what a team member changed",
        "move a site between two of my accounts",
    ),
    (  # billing, without asking a price
        "turn off automatic renewal",
        "pay an overdue invoice",
        "cancel an add-on I no longer need",
        "see when my next payment is due",
        "get my invoices sent to my accountant's email",
        "change my billing currency",
    ),
    (  # apps
        "install Joomla",
        "install Drupal",
        "install a forum on my site",
        "install Nextcloud",
        "uninstall an app I installed",
        "update an app from the Apps tab",
    ),
    (  # sites
        "add a second website to my account",
        "delete a website from my account",
        "clone my site to a new domain",
        "rename a site in my dashboard",
        "take my site offline for a while",
        "put up a coming-soon page",
    ),
    (  # statistics
        "export my visitor statistics",
        "set up Google Analytics on my site",
        "get a weekly traffic report by email",
        "see which pages visitors open most",
    ),
    (  # performance tuning
        "turn on HTTP/2 for my site",
        "set browser caching headers",
        "compress the images on my site",
        "find which plugin slows down my site",
        "preload my site's cache after a change",
    ),
    (  # developer tools
        "view the PHP error log",
        "open a terminal in my browser",
        "install a PHP extension",
        "use a custom .htaccess file",
        "set up a webhook that deploys on every push",
        "run a database migration script",
    ),
    (  # more DNS
        "add an AAAA record",
        "set up DKIM for my domain",
        "use my own nameservers",
        "add a CAA record",
    ),
    (  # new domains
        "register a new domain",
        "buy a .de domain",
        "set up a domain alias",
    ),
    (  # more security
        "get an alert after failed logins",
        "protect my admin page with an extra password",
        "lock my account if my phone is stolen",
        "turn off plain FTP and allow only SFTP",
    ),
    (  # more mail
        "set up my mailbox on an Android phone",
        "always let one sender past the spam filter",
        "export a mailbox to a file",
        "set a storage limit for each mailbox",
        "send mail from my site through SMTP",
    ),
    (  # apps in other languages
        "set up a Python virtual environment",
        "connect to my database from my own computer",
        "run a background worker for my app",
        "see the logs of my Node.js app",
    ),
    (  # images and media
        "turn on lazy loading of images",
        "stop other sites from hotlinking my images",
        "set up a photo gallery",
        "stream videos from my site without buffering",
    ),
    (  # search engines
        "submit my sitemap to Google",
        "create a sitemap for my site",
        "add my site to Bing Webmaster Tools",
        "set canonical addresses for duplicate pages",
    ),
    (  # online shops
        "add a payment button to my shop",
        "set up a product catalogue on my site",
        "connect my shop to a shipping service",
        "put my online shop in maintenance mode",
    ),
)
"""Distinct how-to requests, grouped by part of the product (groups keep the draw varied)."""

TROUBLE_TASKS: tuple[tuple[str, ...], ...] = (
    ("contact form stopped sending emails", "contact form sends messages that land in spam"),
    (
        "website shows a blank white page",
        "site says 'Error establishing a database connection'",
        "site shows a certificate warning in Chrome",
        "site keeps redirecting to itself in a loop",
        "site still shows the old version after I changed it",
        "homepage looks broken on phones",
    ),
    (
        "emails bounce back with 'mailbox full'",
        "emails take hours to arrive",
        "messages are rejected by Outlook",
        "mail app keeps asking for my password",
    ),
    ("FTP client cannot connect to the server", "FTP uploads time out halfway"),
    ("images do not load on my homepage", "fonts look wrong since yesterday"),
    ("cron job does not seem to run", "backup script stops after a minute"),
    ("WordPress dashboard logs me out every few minutes", "WordPress site shows a critical error"),
    ("domain still shows my old host's page", "new subdomain shows a 404 page"),
    ("search ranking dropped after I moved to HTTPS", "pages are not showing up on Google"),
    ("online shop is very slow at checkout", "checkout page says the session has expired"),
    ("database is using far more space than I expected", "site slows down every evening"),
    (
        "site returns a 403 Forbidden error",
        "site says 'Too many redirects'",
        "site shows a 502 Bad Gateway error",
        "site went down after a plugin update",
    ),
    ("backup list is empty", "restore from a backup stops halfway"),
    ("login page says my account is locked", "two-factor codes are not accepted"),
    ("DNS changes are still not showing after a day", "disk space is full"),
    ("site was hacked and shows strange ads", "PHP script runs out of memory"),
    ("app crashes after every deploy", "SSH connection is refused"),
    ("invoice shows the wrong address", "card was charged twice this month"),
    ("site shows PHP warnings at the top of every page", "uploaded photos appear rotated"),
    ("browser says my site is not secure", "site's clock shows the wrong time"),
    ("cron job fills my inbox with emails", "visitors see another person's website"),
)
"""Distinct problem reports ("My {task}."), grouped by what is broken."""

HOWTO_FRAMINGS: tuple[str, ...] = (
    "How do I {t}?",
    "How can I {t}?",
    "What's the easiest way to {t}?",
    "Can you show me how to {t}?",
    "I'd like to {t}. Where do I start?",
    "Is it possible to {t} myself?",
    "Could you walk me through how to {t}?",
    "What are the steps to {t}?",
)
TROUBLE_FRAMINGS: tuple[str, ...] = (
    "My {t}. What should I check first?",
    "My {t}. How do I fix it?",
    "Help, my {t}!",
    "My {t}. Can you help?",
)


def heldout_prompt_pool() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every held-out request, one group per part of the product: (framing kind, requests)."""
    return (*(("howto", g) for g in HOWTO_TASKS), *(("trouble", g) for g in TROUBLE_TASKS))


def heldout_prompts(n: int, seed: int = 0) -> tuple[str, ...]:
    """``n`` distinct held-out support questions, drawn with ``random.Random(seed)``.

    Each request of the pool is asked at most once (no question repeats in other words).
    The requests of each group are shuffled and spread evenly over the whole order (stride
    scheduling: the k-th of a group of m sits near (k + u) / m), so any prefix of the result
    spans the product in proportion (the probe may use only the first few); each request
    gets one framing, rotated so that no framing dominates."""
    pool = heldout_prompt_pool()
    size = sum(len(tasks) for _, tasks in pool)
    if not 0 <= n <= size:
        raise ValueError(f"the held-out pool holds {size} distinct support questions, {n} requested")
    rng = random.Random(f"heldout:{seed}")
    keyed: list[tuple[float, str, str]] = []
    for kind, tasks in pool:
        order = list(tasks)
        rng.shuffle(order)
        keyed += [((k + rng.random()) / len(order), kind, task) for k, task in enumerate(order)]
    keyed.sort()
    framings = {"howto": list(HOWTO_FRAMINGS), "trouble": list(TROUBLE_FRAMINGS)}
    for options in framings.values():
        rng.shuffle(options)
    used = {"howto": 0, "trouble": 0}
    out: list[str] = []
    for _, kind, task in keyed[:n]:
        out.append(framings[kind][used[kind] % len(framings[kind])].format(t=task))
        used[kind] += 1
    return tuple(out)


HELDOUT_POOL_SIZE = sum(len(tasks) for _, tasks in heldout_prompt_pool())
"""How many distinct held-out questions the generator can draw."""
