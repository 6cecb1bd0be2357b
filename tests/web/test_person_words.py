"""The person's own case page speaks to them: "you" and "your", the ways they are unable in words,
no clause numbers in the text (a note at the end names the law), and a refused step said in words
(issue 13 point 6). Against a real Temporal server and worker."""

from __future__ import annotations

import re

from tests.web.test_case_flow import (  # noqa: F401 - `live` is the module's Temporal fixture
    NEEDS,
    PREDICTED,
    START,
    VERIFIED,
    api,
    live,
    page_session,
    token,
    wait_for_stage,
)

CLAUSE = re.compile(r"\((?:SI \d|Care Act|CSSG|s\d)|\bstatutory guidance \d|\breg \d")


async def test_the_persons_case_page_says_you_and_keeps_the_law_to_a_note(live: dict) -> None:  # noqa: F811
    async with api(live["app"]) as client:
        sw, person = await token(client, "demo-social-worker"), await token(client, "demo-person")
        case_id = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        await client.post(f"/api/cases/{case_id}/steps/self_assess", headers=person,
                          json={"needs": NEEDS, "predicted_needs": PREDICTED})
        response = await client.post(f"/api/cases/{case_id}/steps/verify_assessment", json=VERIFIED, headers=sw)
        assert response.status_code == 200, response.text
    async with page_session(live["app"], "demo-person") as pages:
        page = (await pages.get(f"/cases/{case_id}")).text
        refused = (await pages.post(f"/cases/{case_id}/steps/self_assess",
                                    data={"now.nutrition": "needs_assistance", "now.wellbeing_impact": "significant",
                                          "now.arise_from_impairment_or_illness": "yes"})).text
    main = page[page.index("<main"):page.index('<details class="law">')]
    note = page[page.index('<details class="law">'):page.index("</main>")]
    assert "<h1>Support planning</h1>" in main and "Your case" in main
    assert "Your needs meet the national eligibility criteria" in main
    assert "your wellbeing" in main and "the adult" not in main.lower()
    assert "Puts health or safety at risk" in main and "endangers health safety" not in main
    assert not CLAUSE.search(main), CLAUSE.search(main)
    assert "You told us about your needs" in main and "self assessed" not in main
    assert "by demo-social-worker (operations)" not in main and "by carebudget" not in main
    assert "SI 2015/313 reg 2(1)(a)" in note and "Care Act 2014 s13(1)" in note
    # A step out of turn is said in words, not as the workflow's step and stage names.
    assert "the case has moved on to Support planning" in refused
    assert "is taken at" not in refused and "support_planning" not in refused.split("<main")[1].split("<form")[0]
