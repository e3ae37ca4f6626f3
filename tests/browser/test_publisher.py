"""The publisher's journey in Chromium: upload a CSV with good and bad rows, watch it being
processed, read why each bad row was refused, open a rejected lead's quality report, the
dashboard and the posting instructions (each main page screenshot at 1280 and 390 px)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from exchange.models import Role
from tests.browser.conftest import log_in, screenshot

CAPTURED = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
HEADER = (
    "first_name,last_name,email,phone,country,postal_code,homeowner,monthly_electric_bill,"
    "consent_text,consent_url,consent_captured_at"
)
CONSENT = f"I agree to be contacted,https://solar.example.org/q,{CAPTURED}"
ROWS = [
    f"Maria,Lopez,maria.lopez@gmail.com,(415) 555-2671,US,94103,yes,180,{CONSENT}",  # line 2
    f"Julia,Garcia,julia.garcia@gmail.com,(415) 555-2672,US,94103,no,95,{CONSENT}",  # line 3
    f"Anna,Smith,,12345,US,94103,yes,150,{CONSENT}",  # line 4: a phone that is no number
    f"Clara,Brown,clara@mailinator.com,,US,94103,yes,210,{CONSENT}",  # line 5: disposable e-mail
    f"Elena,Miller,elena.miller@gmail.com,(415) 555-2675,US,94103,yes,,{CONSENT}",  # line 6
]


def test_a_publisher_uploads_a_csv_and_sees_the_rejected_rows_explained(
    page: Any, portal_user: Any, solar: Any, tmp_path: Path
) -> None:
    user = portal_user(Role.PUBLISHER)
    csv_file = tmp_path / "solar-leads.csv"
    csv_file.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    log_in(page, user)

    page.click("nav >> text=Upload")
    screenshot(page, "publisher-upload")
    page.select_option("#f-niche", "solar")
    page.set_input_files("#f-file", str(csv_file))
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r"/publisher/uploads/\d+"))
    # The page carries on processing by itself, then shows the report.
    rows = page.locator("#upload-rows")
    rows.wait_for()
    assert page.locator("#upload-progress").count() == 0
    totals = page.locator("#upload-totals").inner_text()
    assert re.search(r"5\s+rows", totals) and re.search(r"2\s+accepted", totals)
    assert re.search(r"2\s+rejected by quality", totals) and re.search(r"1\s+invalid", totals)
    report = rows.inner_text()
    line = {
        n: page.locator("#upload-rows tr", has=page.locator(f"td.num:text-is('{n}')")).inner_text()
        for n in (4, 5, 6)
    }
    assert "rejected" in line[4] and "The phone number is not valid." in line[4]
    assert "rejected" in line[5] and "The e-mail domain is disposable" in line[5]
    assert "invalid" in line[6] and "Monthly electric bill is missing." in line[6]
    # Only the rows that need attention are listed until "Every row" is asked for.
    assert page.locator("#upload-rows tbody td.num").all_inner_texts() == ["4", "5", "6"]
    assert "Line" in report
    screenshot(page, "publisher-upload-report")

    # The rejected lead's quality report, from the upload report.
    page.locator("#upload-rows tr", has=page.locator("td.num:text-is('4')")).locator("a").click()
    page.wait_for_url(re.compile(r"/publisher/leads/\d+"))
    quality = page.locator("#quality-report").inner_text()
    assert "Why this lead was rejected" in quality and "The phone number is not valid." in quality
    screenshot(page, "publisher-lead")

    page.click("nav >> text=Leads")
    listing = page.locator("#leads").inner_text()
    assert listing.count("rejected") == 2 and listing.count("unsold") == 2
    page.select_option("#f-status", "rejected")
    page.click("button:has-text('Filter')")
    page.wait_for_url(re.compile(r"status=rejected"))
    assert "unsold" not in page.locator("#leads").inner_text()
    screenshot(page, "publisher-leads")

    page.click("nav >> text=Dashboard")
    summary = page.locator("#summary").inner_text()
    assert re.search(r"4\s+leads submitted", summary) and re.search(r"2\s+rejected", summary)
    assert "The phone number is not valid." in page.locator("#rejections").inner_text()
    assert page.locator("figure.chart svg").count() >= 3
    screenshot(page, "publisher-dashboard-data")

    page.click("nav >> text=Posting instructions")
    assert "monthly_electric_bill" in page.locator("#niche-fields").inner_text()
    assert '"niche": "solar"' in page.locator("#example-lead").inner_text()
    screenshot(page, "publisher-instructions")

    for label, name in (("Returns", "publisher-returns"), ("Payouts", "publisher-payouts")):
        page.click(f"nav >> text={label}")
        assert page.locator("h1").inner_text().startswith(label)
        screenshot(page, name)
