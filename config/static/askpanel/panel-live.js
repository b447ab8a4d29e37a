// The live panel page: follows the panel's event stream (/api/v1/panels/<id>/events/)
// and fills in each expert's card as its contribution lands, without a reload. A
// reconnect resumes after the last event seen (?after=), and cards are keyed by
// contribution id, so nothing shows twice and nothing is lost.
(function () {
  "use strict";
  var root = document.getElementById("panel-live");
  if (!root) return;
  var lastSeq = +root.dataset.lastSeq || 0;
  var status = root.dataset.status;
  var retryMs = 1000;
  var fetching = {};
  var KINDS = ["status", "experts", "round_started", "speaking", "contribution", "round_completed", "converged", "consensus"];

  function get(url) {
    return fetch(url, {credentials: "same-origin", headers: {"HX-Request": "true"}}).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return response.text();
    });
  }

  function roundSection(number, title) {
    var section = document.getElementById("round-" + number);
    if (section) return section;
    var placeholder = document.getElementById("no-rounds");
    if (placeholder) placeholder.remove();
    section = document.createElement("section");
    section.className = "round";
    section.id = "round-" + number;
    section.dataset.round = number;
    var heading = document.createElement("h3");
    heading.textContent = "Round " + number + (title ? ": " + title : "");
    var cards = document.createElement("div");
    cards.className = "cards";
    section.appendChild(heading);
    section.appendChild(cards);
    var rounds = document.getElementById("rounds");
    if (rounds) rounds.appendChild(section);
    return section;
  }

  function addCard(contributionId, round) {
    if (document.getElementById("contribution-" + contributionId) || fetching[contributionId]) return;
    fetching[contributionId] = true;
    get(root.dataset.cardUrl.replace(/0\/$/, contributionId + "/")).then(function (html) {
      if (document.getElementById("contribution-" + contributionId)) return;
      roundSection(round).querySelector(".cards").insertAdjacentHTML("beforeend", html);
    }).catch(function () {
      delete fetching[contributionId];  // the next reconnect or event brings it again
    });
  }

  function refresh(id, url) {
    var target = document.getElementById(id);
    if (!target) return Promise.resolve();
    var open = target.querySelector("details[open]");
    return get(url).then(function (html) {
      target.innerHTML = html;
      if (open && target.querySelector("details")) target.querySelector("details").open = true;
      countdowns();
    });
  }

  function handle(message) {
    var event = JSON.parse(message.data);
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    var data = event.data || {};
    if (event.kind === "contribution" && data.contribution_id) {
      addCard(data.contribution_id, data.round);
    } else if (event.kind === "round_started") {
      roundSection(data.round, data.title);
    }
    if (event.kind === "status") {
      if (data.status === "awaiting_input" || status === "awaiting_input") refresh("panel-human", root.dataset.humanUrl);
      status = data.status;
    }
    if (event.kind !== "speaking") refreshStatusSoon();
  }

  var statusTimer = null;
  function refreshStatusSoon() {  // answers often land close together: one refresh per burst
    if (statusTimer) return;
    statusTimer = setTimeout(function () {
      statusTimer = null;
      refresh("panel-status", root.dataset.statusUrl);
    }, 300);
  }

  function finish() {
    root.dataset.final = "true";
    refresh("panel-status", root.dataset.statusUrl);
    refresh("panel-human", root.dataset.humanUrl);
    refresh("panel-outcome", root.dataset.outcomeUrl).then(function () {
      var transcript = document.getElementById("transcript");
      if (transcript && document.querySelector("#panel-outcome [data-report]")) transcript.remove();
    });
  }

  function connect() {
    var source = new EventSource(root.dataset.eventsUrl + "?after=" + lastSeq);
    KINDS.forEach(function (kind) { source.addEventListener(kind, handle); });
    source.addEventListener("end", function () { source.close(); finish(); });
    source.onopen = function () { retryMs = 1000; };
    source.onerror = function () {
      // Reconnect ourselves, after the last event seen (the browser's own retry would
      // reopen the first URL).
      source.close();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    };
  }

  function countdowns() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (element) {
      var left = Math.max(0, Math.floor((Date.parse(element.dataset.deadline) - Date.now()) / 1000));
      var hours = Math.floor(left / 3600), minutes = Math.floor(left % 3600 / 60), seconds = left % 60;
      element.textContent = left ? hours + " h " + String(minutes).padStart(2, "0") + " min " +
        String(seconds).padStart(2, "0") + " s left" : "the deadline has passed";
    });
  }

  countdowns();
  setInterval(countdowns, 1000);
  if (root.dataset.final !== "true") connect();
})();
