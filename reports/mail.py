"""E-mail: a published report as a MIME message, and an SMTP transport that retries only what is safe to retry.

A message goes out at most once. The transport retries with backoff while the server has certainly not taken
the message: the connection or the envelope failed, or the server answered with a temporary (4xx) error. When
the connection breaks after the message itself was transmitted, the server may have accepted it, so the
transport gives up and says the outcome is uncertain instead of sending it again.
"""
from __future__ import annotations

import base64
import logging
import mimetypes
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

from reports.errors import ReportsError
from settings import Settings

logger = logging.getLogger(__name__)

TRANSIENT_CODES = range(400, 500)  # SMTP "try again later"
ACCEPTED_CODES = (250, 251)  # recipient OK / will forward
MESSAGE_ACCEPTED = 250
BACKOFF_FACTOR = 2
TEXT_CTE = "quoted-printable"  # 7-bit clean for servers without 8BITMIME, still readable as source
FALLBACK_MESSAGE_ID_DOMAIN = "spbe-evidence.invalid"
INLINE_IMAGE = re.compile(r'src="data:image/(?P<subtype>[a-z0-9.+-]+);base64,(?P<data>[A-Za-z0-9+/=]+)"')


class MailNotConfigured(ReportsError):
    """Sending was asked for but the SMTP settings are incomplete."""


class SendFailed(Exception):
    """The server did not take the message (after the retries that were safe); sending it later is safe."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class SendUncertain(SendFailed):
    """The connection broke after the message was transmitted: it may have been delivered; do not resend."""


class ServerUnreachable(SendFailed):
    """No connection to the mail server at all, after the retries: every report after this one would wait as long."""


class NoConnection(OSError):
    """The connection to the mail server was not made (a name that does not resolve, a closed port, no route, no
    answer): transient like any network failure, and unlike one after the server answered, the same for every
    report."""


def check_mail_settings(settings: Settings) -> None:
    """MailNotConfigured naming the settings that sending needs and lacks (before any flow starts, in the CLI)."""
    missing = [name for name, value in (("SPBE_SMTP_HOST", settings.smtp_host),
                                        ("SPBE_SMTP_SENDER", settings.smtp_sender)) if not value]
    if missing:
        raise MailNotConfigured(f"set {' and '.join(missing)} to e-mail reports (or use a dry run)")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # "starttls", "ssl" or "none"
    sender: str
    user: str | None
    password: str | None = field(repr=False)
    timeout_seconds: float
    attempts: int
    retry_delay_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings, password: str | None) -> SmtpConfig:
        """The SMTP settings, or MailNotConfigured naming what is missing; `password` comes from env or a Secret block."""
        check_mail_settings(settings)
        if settings.smtp_user and not password:
            raise MailNotConfigured(
                "SPBE_SMTP_USER is set but there is no password: set SPBE_SMTP_PASSWORD or SPBE_SMTP_PASSWORD_BLOCK"
            )
        return cls(
            host=settings.smtp_host, port=settings.smtp_port, tls=settings.smtp_tls, sender=settings.smtp_sender,
            user=settings.smtp_user, password=password, timeout_seconds=settings.smtp_timeout_seconds,
            attempts=settings.smtp_attempts, retry_delay_seconds=settings.smtp_retry_delay_seconds,
        )  # fmt: skip


@dataclass(frozen=True)
class Sent:
    attempts: int
    refused: dict[str, str]  # recipients the server refused while taking the message for the others


def compose(
    *,
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[tuple[str, bytes]],
    recipients: Sequence[str],
    sender: str | None,
    headers: dict[str, str],
) -> EmailMessage:
    """A multipart message: plain text and HTML alternatives, then the attachments (type from the file name)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = ", ".join(recipients)
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=True)
    for name, value in headers.items():
        message[name] = value
    message.set_content(text, cte=TEXT_CTE)
    html, images = inline_images(html, sender)
    message.add_alternative(html, subtype="html", cte=TEXT_CTE)
    html_part = message.get_payload()[-1]
    for content_id, subtype, data in images:
        html_part.add_related(data, maintype="image", subtype=subtype, cid=content_id)
    for filename, data in attachments:
        maintype, subtype = (mimetypes.guess_type(filename)[0] or "application/octet-stream").split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def inline_images(html: str, sender: str | None) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The HTML with each image it carries inline (the dashboard's heatmap, a data: URI, which Gmail and Outlook do
    not show) pointing to a part of the message instead, and those parts: (Content-ID, image subtype, bytes)."""
    images = []

    def to_part(match: re.Match[str]) -> str:
        content_id = new_message_id(sender)
        images.append((content_id, match["subtype"], base64.b64decode(match["data"])))
        return f'src="cid:{content_id.strip("<>")}"'

    return INLINE_IMAGE.sub(to_part, html), images


def new_message_id(sender: str | None) -> str:
    """A Message-ID in the sender's domain (no DNS lookup of this host)."""
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or FALLBACK_MESSAGE_ID_DOMAIN
    return make_msgid(idstring="spbe", domain=domain)


class SmtpTransport:
    """Sends one message per connection, retrying with backoff while that cannot duplicate it."""

    def __init__(self, config: SmtpConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> Sent:
        """Sent, or SendFailed (not taken: safe to retry later), or SendUncertain (maybe taken: do not resend)."""
        attempt, delay = 1, self.config.retry_delay_seconds
        while True:
            try:
                return Sent(attempt, self._transmit(message, recipients, attempt))
            except (OSError, smtplib.SMTPException) as failure:
                if not _transient(failure) or attempt == self.config.attempts:
                    if isinstance(failure, NoConnection):
                        raise ServerUnreachable(
                            f"the mail server {self.config.host}:{self.config.port} could not be reached ({failure}); "
                            "check SPBE_SMTP_HOST and SPBE_SMTP_PORT, and that this machine may connect to it", attempt,
                        ) from failure  # fmt: skip
                    raise SendFailed(f"{type(failure).__name__}: {failure}", attempt) from failure
                logger.warning("SMTP %s:%s attempt %d/%d failed (%s); retrying in %.0f s", self.config.host,
                               self.config.port, attempt, self.config.attempts, failure, delay)
            self._sleep(delay)
            attempt, delay = attempt + 1, delay * BACKOFF_FACTOR

    def _transmit(self, message: EmailMessage, recipients: Sequence[str], attempt: int) -> dict[str, str]:
        """One SMTP session; the recipients the server refused. A break after the message went out is uncertain."""
        smtp = self._connect()
        try:
            refused = self._envelope(smtp, recipients)
            try:
                code, reply = smtp.data(message.as_bytes(policy=SMTP_POLICY))
            except smtplib.SMTPDataError:
                raise  # the server answered DATA with an error: it did not take the message
            except (OSError, smtplib.SMTPException) as error:
                lost = f"connection lost while the server was taking the message: {error}"
                raise SendUncertain(lost, attempt) from error
            if code != MESSAGE_ACCEPTED:
                raise smtplib.SMTPDataError(code, reply)  # answered, but refused the message
        finally:
            _close(smtp)
        return refused

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.tls == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=config.timeout_seconds, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(timeout=config.timeout_seconds)
        try:
            smtp.connect(config.host, config.port)
        except (smtplib.SMTPException, ssl.SSLError):  # the server answered, or its TLS did not match ours
            smtp.close()
            raise
        except OSError as error:
            smtp.close()
            raise NoConnection(f"{type(error).__name__}: {error}") from error
        try:
            if config.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _envelope(self, smtp: smtplib.SMTP, recipients: Sequence[str]) -> dict[str, str]:
        """MAIL FROM and RCPT TO; the refused recipients, or an error if the server refused them all."""
        smtp.ehlo_or_helo_if_needed()
        sender = parseaddr(self.config.sender)[1]
        code, reply = smtp.mail(sender)
        if code not in ACCEPTED_CODES:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in ACCEPTED_CODES:
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        return {address: f"{code} {reply.decode(errors='replace')}" for address, (code, reply) in refused.items()}


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a server that already hung up needs only the socket closed."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _transient(error: Exception) -> bool:
    """Worth another try: the server said "later" (4xx), or the network failed; not a 5xx or a TLS/auth mismatch."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code in TRANSIENT_CODES for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code in TRANSIENT_CODES
    if isinstance(error, (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError)):
        return False
    return isinstance(error, OSError)
