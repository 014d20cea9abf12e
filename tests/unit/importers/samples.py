"""Builders that write small, realistic sample files for the importer tests.

Every builder writes into the directory it is given and returns the path
to import. Contents are fixed, so tests can assert exact values.
"""

from __future__ import annotations

import json
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

# --------------------------------------------------------------------- e-mail


def _plain_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice Example <alice@example.com>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = "Lunch on Friday?"
    msg["Date"] = "Mon, 01 Jan 2024 10:00:00 +0100"
    msg["Message-ID"] = "<m1@example.com>"
    msg.set_content(
        "Hi Bob,\n\nFrom the look of it Friday works.\nShall we try the new place?\n\nAlice\n"
    )
    return msg


def _alternative_with_attachment() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Carol <carol@example.net>"
    msg["To"] = "alice@example.com, Bob <bob@example.org>"
    msg["Cc"] = "dave@example.net"
    msg["Subject"] = "Quarterly notes"
    msg["Date"] = "Tue, 02 Jan 2024 09:30:00 -0500"
    msg["Message-ID"] = "<q1@example.net>"
    msg.set_content("Plain version: the notes are attached.")
    msg.add_alternative(
        "<html><body><p>HTML version: the <b>notes</b> are attached.</p></body></html>",
        subtype="html",
    )
    msg.add_attachment(
        b"%PDF-1.4 fake notes" * 10,
        maintype="application",
        subtype="pdf",
        filename="notes.pdf",
    )
    return msg


def _html_reply() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Bob <bob@example.org>"
    msg["To"] = "Alice Example <alice@example.com>"
    msg["Subject"] = "Re: Lunch on Friday?"
    msg["Date"] = "Mon, 01 Jan 2024 12:15:00 +0000"
    msg["Message-ID"] = "<r1@example.org>"
    msg["In-Reply-To"] = "<m1@example.com>"
    msg["References"] = "<m1@example.com>"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>Sounds good &amp; see you there!</p><ul><li>12:30</li><li>Cafe Nord</li></ul>"
        "</body></html>",
        subtype="html",
    )
    return msg


def sample_messages() -> list[EmailMessage]:
    """Three messages: plain, multipart/alternative + attachment, HTML reply."""
    return [_plain_message(), _alternative_with_attachment(), _html_reply()]


def mbox_bytes(messages: list[EmailMessage]) -> bytes:
    """Messages in mboxrd form: ``From `` separators, escaped body lines."""
    out = bytearray()
    for msg in messages:
        out += b"From sender@example.com Mon Jan  1 10:00:00 2024\n"
        raw = msg.as_bytes(policy=SMTP.clone(linesep="\n"))
        for line in raw.splitlines(keepends=True):
            stripped = line.lstrip(b">")
            out += (b">" + line) if stripped.startswith(b"From ") else line
        if not raw.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    return bytes(out)


def write_mbox(directory: Path) -> Path:
    """An mbox with the three sample messages."""
    path = directory / "inbox.mbox"
    path.write_bytes(mbox_bytes(sample_messages()))
    return path


def write_eml_dir(directory: Path) -> Path:
    """A folder of .eml files (one nested) plus a file that is not .eml."""
    root = directory / "mail"
    (root / "2024").mkdir(parents=True)
    messages = sample_messages()
    (root / "plain.eml").write_bytes(messages[0].as_bytes())
    (root / "2024" / "alternative.eml").write_bytes(messages[1].as_bytes())
    (root / "reply.eml").write_bytes(messages[2].as_bytes())
    (root / "readme.txt").write_text("not mail")
    return root


# ---------------------------------------------------------------------- EPUB

_CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>"""

_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="isbn">978-0-00-000000-0</dc:identifier>
    <dc:identifier id="bookid">urn:uuid:12345678-1234-5678-1234-567812345678</dc:identifier>
    <dc:title>The Garden Year</dc:title>
    <dc:creator>Jane Gardener</dc:creator>
    <dc:creator>Tom Digger</dc:creator>
    <dc:language>en</dc:language>
    <dc:date>2019-05-01</dc:date>
    <meta property="dcterms:modified">2020-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="img" href="images/cover.jpg" media-type="image/jpeg"/>
  </manifest>
  <spine>
    <itemref idref="cover" linear="no"/>
    <itemref idref="c1"/>
    <itemref idref="c2"/>
  </spine>
</package>"""

_NAV = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>Contents</title></head>
<body><nav epub:type="toc"><ol>
  <li><a href="text/chapter%201.xhtml">Spring: Sowing</a></li>
  <li><a href="text/chapter2.xhtml#start">Summer &amp; Harvest</a></li>
</ol></nav></body></html>"""

_CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body><h1>{heading}</h1>{body}</body></html>"""


def write_epub(directory: Path) -> Path:
    """A two-chapter EPUB 3 with a nav TOC and an image-only cover page."""
    path = directory / "garden.epub"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", _CONTAINER)
        book.writestr("OEBPS/content.opf", _OPF)
        book.writestr("OEBPS/nav.xhtml", _NAV)
        book.writestr(
            "OEBPS/text/cover.xhtml",
            '<html><body><img src="../images/cover.jpg" alt=""/></body></html>',
        )
        book.writestr(
            "OEBPS/text/chapter 1.xhtml",
            _CHAPTER.format(
                title="Ch1",
                heading="Sowing",
                body="<p>Seeds want warm soil.</p><p>Water them &#8212; gently.</p>",
            ),
        )
        book.writestr(
            "OEBPS/text/chapter2.xhtml",
            _CHAPTER.format(
                title="Ch2", heading="Harvest", body="<p>Pick beans every other day.</p>"
            ),
        )
        book.writestr("OEBPS/images/cover.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    return path


# ----------------------------------------------------------------------- PDF


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[str], *, title: str | None, file_id: str | None) -> bytes:
    """A minimal valid PDF 1.4: one Helvetica text line per page, exact xref."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    info_id = font_id + 1
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for index, text in enumerate(pages):
        content_id = page_ids[index] + 1
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode()
        )
        stream = f"BT /F1 12 Tf 72 720 Td ({_pdf_text(text)}) Tj ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info = "/CreationDate (D:20230405060708Z)"
    if title:
        info += f" /Title ({_pdf_text(title)}) /Author (Sam Writer)"
    objects.append(f"<< {info} >>".encode())

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R"
    if file_id:
        trailer += f" /ID [<{file_id}> <{file_id}>]"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def write_pdf(directory: Path) -> Path:
    """A two-page PDF with a title, a creation date and a trailer /ID."""
    path = directory / "report.pdf"
    path.write_bytes(
        pdf_bytes(
            ["Annual report of the allotment society", "Tomatoes did well this year"],
            title="Allotment Report",
            file_id="0123456789abcdef0123456789abcdef",
        )
    )
    return path


# --------------------------------------------------------------------- Slack

SLACK_USERS = [
    {"id": "U1", "name": "alice", "real_name": "Alice Example",
     "profile": {"display_name": "alice.e", "real_name": "Alice Example"}},
    {"id": "U2", "name": "bob", "profile": {"display_name": "", "real_name": "Bob Builder"}},
]  # fmt: skip
SLACK_CHANNELS = [{"id": "C100", "name": "general"}, {"id": "C200", "name": "random"}]


def write_slack_export(directory: Path) -> Path:
    """A zipped export nested in one folder, as Slack's download unpacks to."""
    general_day = [
        {"type": "message", "subtype": "channel_join", "user": "U2",
         "text": "<@U2> has joined the channel", "ts": "1704103200.000100"},
        {"type": "message", "user": "U1", "text": "Plan for <#C200|random>: ship <https://example.com/v2|v2> &amp; celebrate <@U2>",
         "ts": "1704106800.000200", "thread_ts": "1704106800.000200", "reply_count": 1,
         "reactions": [{"name": "tada", "count": 2, "users": ["U1", "U2"]}]},
        {"type": "message", "user": "U2", "text": "Agreed!", "ts": "1704107000.000300",
         "thread_ts": "1704106800.000200", "parent_user_id": "U1"},
        {"type": "message", "user": "U1", "text": "", "ts": "1704107100.000400"},
    ]  # fmt: skip
    random_day = [
        {"type": "message", "user": "U2", "text": "Coffee?", "ts": "1704193200.000500",
         "files": [{"name": "mug.png", "mimetype": "image/png", "size": 1234}]},
        {"type": "message", "subtype": "bot_message", "username": "deploybot",
         "text": "Deployed <!here>", "ts": "1704193300.000600"},
    ]  # fmt: skip
    path = directory / "acme-slack.zip"
    root = "Acme Slack export"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as export:
        export.writestr(f"{root}/users.json", json.dumps(SLACK_USERS))
        export.writestr(f"{root}/channels.json", json.dumps(SLACK_CHANNELS))
        export.writestr(f"{root}/integration_logs.json", "[]")
        export.writestr(f"{root}/general/2024-01-01.json", json.dumps(general_day))
        export.writestr(f"{root}/random/2024-01-02.json", json.dumps(random_day))
    return path


# ----------------------------------------------------------------- chat JSON


def write_chat_json(directory: Path) -> Path:
    """A Telegram-like chat: ids, epoch and ISO times, rich text parts, junk."""
    path = directory / "family.json"
    document = {
        "name": "Family",
        "id": 4242,
        "messages": [
            {"id": 1, "from": "Mum", "text": "Dinner at 7?", "date": "2024-03-01T17:00:00"},
            {"id": 2, "from": "Sam", "timestamp": 1709312700000,
             "text": ["See ", {"type": "link", "text": "https://example.org/menu"}, " first"]},
            {"id": 3, "from": "Mum", "text": "no time on this one"},
            {"id": 4, "from": "Sam", "timestamp": "not a date", "text": "broken"},
            {"id": 5, "sender": "Dad", "timestamp": "2024-03-01T18:30:00+01:00", "text": "Late!",
             "reply_to_message_id": 1},
        ],
    }  # fmt: skip
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# ------------------------------------------------------------------ calendar

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//LifeOS tests//EN\r
BEGIN:VEVENT\r
UID:weekly-sync@example.com\r
DTSTAMP:20240101T000000Z\r
DTSTART;TZID=Europe/Berlin:20240108T100000\r
DTEND;TZID=Europe/Berlin:20240108T103000\r
RRULE:FREQ=WEEKLY;COUNT=10\r
SUMMARY:Team sync\r
DESCRIPTION:Weekly check-in\\, bring updates.\r
LOCATION:Room 4\r
ORGANIZER;CN=Alice Example:mailto:alice@example.com\r
ATTENDEE;CN=Bob Builder;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:bob@example.org\r
ATTENDEE;CN=Carol;PARTSTAT=TENTATIVE:mailto:carol@example.net\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-sync@example.com\r
RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000\r
DTSTAMP:20240101T000000Z\r
DTSTART;TZID=Europe/Berlin:20240115T140000\r
DTEND;TZID=Europe/Berlin:20240115T143000\r
SUMMARY:Team sync (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:holiday-2024@example.com\r
DTSTAMP:20240101T000000Z\r
DTSTART;VALUE=DATE:20240501\r
DTEND;VALUE=DATE:20240502\r
SUMMARY:Labour Day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:floating@example.com\r
DTSTAMP:20240101T000000Z\r
DTSTART:20240601T090000\r
DURATION:PT45M\r
SUMMARY:Dentist\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:no-start@example.com\r
DTSTAMP:20240101T000000Z\r
SUMMARY:Broken event\r
END:VEVENT\r
END:VCALENDAR\r
"""


def write_ics(directory: Path) -> Path:
    """A calendar with a recurring event, an override, all-day and floating events."""
    path = directory / "work.ics"
    path.write_bytes(ICS.encode())
    return path


# ----------------------------------------------------------------------- GPX

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="LifeOS tests" xmlns="http://www.topografix.com/GPX/1/1">
  <metadata><time>2024-04-01T06:00:00Z</time></metadata>
  <trk>
    <name>Morning run</name>
    <type>running</type>
    <trkseg>
      <trkpt lat="52.5200" lon="13.4050"><ele>34</ele><time>2024-04-01T06:00:00Z</time></trkpt>
      <trkpt lat="52.5250" lon="13.4100"><ele>36</ele><time>2024-04-01T06:03:00Z</time></trkpt>
      <trkpt lat="52.5300" lon="13.4150"><ele>35</ele><time>2024-04-01T06:06:00Z</time></trkpt>
    </trkseg>
  </trk>
  <trk><name>Empty</name><trkseg></trkseg></trk>
  <trk>
    <name>Untimed walk</name>
    <trkseg>
      <trkpt lat="48.1000" lon="11.5000"/>
      <trkpt lat="48.1010" lon="11.5010"/>
    </trkseg>
  </trk>
</gpx>
"""


def write_gpx(directory: Path) -> Path:
    """Three tracks: a timed run, an empty track, an untimed walk."""
    path = directory / "tracks.gpx"
    path.write_text(GPX, encoding="utf-8")
    return path


# -------------------------------------------------------------- Apple Health

HEALTH_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>
]>
<HealthData locale="en_GB">
 <ExportDate value="2024-05-01 09:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Alice&#8217;s iPhone" sourceVersion="17.4" unit="count" creationDate="2024-04-30 08:10:00 +0100" startDate="2024-04-30 08:00:00 +0100" endDate="2024-04-30 08:10:00 +0100" value="812"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Alice&#8217;s Watch" unit="count/min" creationDate="2024-04-30 08:05:00 +0100" startDate="2024-04-30 08:05:00 +0100" endDate="2024-04-30 08:05:00 +0100" value="71">
  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>
 </Record>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Alice&#8217;s Watch" creationDate="2024-04-30 07:00:00 +0100" startDate="2024-04-29 23:30:00 +0100" endDate="2024-04-30 06:45:00 +0100" value="HKCategoryValueSleepAnalysisAsleepCore"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="broken" unit="count" value="3"/>
 <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Cuff" creationDate="2024-04-30 09:00:00 +0100" startDate="2024-04-30 09:00:00 +0100" endDate="2024-04-30 09:00:00 +0100">
  <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Cuff" unit="mmHg" startDate="2024-04-30 09:00:00 +0100" endDate="2024-04-30 09:00:00 +0100" value="118"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureDiastolic" sourceName="Cuff" unit="mmHg" startDate="2024-04-30 09:00:00 +0100" endDate="2024-04-30 09:00:00 +0100" value="76"/>
 </Correlation>
 <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.5" durationUnit="min" totalDistance="5.2" totalDistanceUnit="km" totalEnergyBurned="310" totalEnergyBurnedUnit="kcal" sourceName="Alice&#8217;s Watch" sourceVersion="10.4" creationDate="2024-04-30 19:00:00 +0100" startDate="2024-04-30 18:28:00 +0100" endDate="2024-04-30 19:00:00 +0100">
  <MetadataEntry key="HKIndoorWorkout" value="0"/>
  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="2024-04-30 18:28:00 +0100"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2024-04-30 18:28:00 +0100" endDate="2024-04-30 19:00:00 +0100" average="148" minimum="101" maximum="171" unit="count/min"/>
  <WorkoutRoute sourceName="Alice&#8217;s Watch"><FileReference path="/workout-routes/route_2024-04-30_7.00pm.gpx"/></WorkoutRoute>
 </Workout>
 <ActivitySummary dateComponents="2024-04-30" activeEnergyBurned="512"/>
</HealthData>
"""


def write_apple_health(directory: Path) -> Path:
    """An export.xml with records, a correlation, a workout and a broken record."""
    folder = directory / "apple_health_export"
    folder.mkdir()
    path = folder / "export.xml"
    path.write_text(HEALTH_XML, encoding="utf-8")
    return path


# ----------------------------------------------------------------------- CSV

CSV = """timestamp,weight_kg,body_fat_pct,device
2024-01-01T07:00:00Z,72.5,18.2,scale-a

2024-01-02 07:05:00,72.1,,scale-a
yesterday-ish,71.9,18.0,scale-a
2024-01-03T07:00:00+01:00,71.8,17.9,scale-b
2024-01-04T07:00:00Z,,,scale-a
2024-01-05T07:00:00Z,71.7,17.8
"""


def write_csv(directory: Path) -> Path:
    """Weight measurements with a blank line and three kinds of bad rows."""
    path = directory / "weight.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


# ------------------------------------------------------------------- Kindle

KINDLE_ENTRIES = [
    "Thinking, Fast and Slow (Kahneman, Daniel)\r\n"
    "- Your Highlight on page 20 | Location 301-303 | Added on Monday, 1 January 2024 21:05:10\r\n"
    "\r\n"
    "A reliable way to make people believe in falsehoods is frequent repetition.\r\n",
    "\ufeffThinking, Fast and Slow (Kahneman, Daniel)\r\n"
    "- Your Note on page 20 | Location 303 | Added on Monday, 1 January 2024 21:06:00\r\n"
    "\r\n"
    "Compare with the illusory truth effect.\r\nSee chapter 5.\r\n",
    "\ufeffThinking, Fast and Slow (Kahneman, Daniel)\r\n"
    "- Your Bookmark on page 40 | Location 610 | Added on Monday, 1 January 2024 21:10:00\r\n"
    "\r\n"
    "\r\n",
    "\ufeffMeditations (Marcus Aurelius)\r\n"
    "- Highlight Loc. 1200-05 | Added on Tuesday, January 2, 2024, 07:30 AM\r\n"
    "\r\n"
    "You have power over your mind - not outside events.\r\n",
]


def kindle_text(entries: list[str]) -> str:
    """Entries joined the way a Kindle writes them."""
    return "".join(entry + "==========\r\n" for entry in entries)


def write_kindle(directory: Path) -> Path:
    """My Clippings.txt with a file BOM, per-entry BOMs, CRLF and a bookmark."""
    path = directory / "My Clippings.txt"
    path.write_bytes(("\ufeff" + kindle_text(KINDLE_ENTRIES)).encode("utf-8"))
    return path


# ------------------------------------------------------------------- notes


def write_notes(directory: Path) -> Path:
    """A notes tree: front matter, heading-only, nested, empty, hidden, bad YAML."""
    root = directory / "notes"
    (root / "projects").mkdir(parents=True)
    (root / ".obsidian").mkdir()
    (root / "garden.md").write_text(
        "---\ntitle: Garden plan\ndate: 2024-02-03\ntags: [garden, spring]\n"
        "id: note-garden\n---\n\nPlant beans after the last frost.\n",
        encoding="utf-8",
    )
    (root / "projects" / "lifeos.md").write_text(
        "# LifeOS ideas\n\nLink notes by the people in them.\n", encoding="utf-8"
    )
    (root / "empty.md").write_text("\n\n", encoding="utf-8")
    (root / "broken.md").write_text(
        "---\ntitle: [unclosed\n---\nBody survives.\n", encoding="utf-8"
    )
    (root / ".obsidian" / "workspace.md").write_text("# hidden\n", encoding="utf-8")
    (root / "todo.txt").write_text("buy seeds\n", encoding="utf-8")
    return root
