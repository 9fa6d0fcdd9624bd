// Switchman console: live rollout progress (server-sent events) and a
// confirmation before destructive actions. Pages read fine without it.
"use strict";

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function stateBadge(state) {
  return text("span", state, "state " + state);
}

function drawRollout(section, r) {
  const csrf = document.body.dataset.csrf || "";
  const canOperate = section.querySelector(".actions") !== null || section.dataset.canOperate === "1";
  if (canOperate) section.dataset.canOperate = "1";
  section.replaceChildren();
  const h2 = document.createElement("h2");
  const link = text("a", "#" + r.id);
  link.href = "/rollouts/" + r.id;
  h2.append("Rollout ", link, ": " + (r.from_version || "–") + " → " + r.version + " ");
  const badge = stateBadge(r.state);
  badge.dataset.field = "state";
  h2.append(badge);
  section.append(h2);
  const p = document.createElement("p");
  const progress = text("span", "batch " + Math.min(r.current_batch + 1, r.batches) + " of " + r.batches);
  progress.dataset.field = "progress";
  const message = text("span", r.message);
  message.dataset.field = "message";
  p.append(progress, " · ", message);
  section.append(p);
  if (canOperate && !r.terminal) {
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.dataset.rollout = r.id;
    for (const verb of ["promote", "pause", "resume", "abort"]) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = "/rollouts/" + r.id + "/" + verb;
      for (const [name, value] of [["csrf", csrf], ["back", location.pathname]]) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
      }
      const button = text("button", verb.charAt(0).toUpperCase() + verb.slice(1));
      button.type = "submit";
      button.dataset.verb = verb;
      form.append(button);
      actions.append(form);
    }
    section.append(actions);
  }
  const table = document.createElement("table");
  table.className = "rollout-hosts";
  const head = document.createElement("tr");
  for (const title of ["Batch", "Host", "State", "Message"]) head.append(text("th", title));
  table.createTHead().append(head);
  const body = table.createTBody();
  const hosts = r.hosts.slice().sort((a, b) => a.batch - b.batch);
  for (const h of hosts) {
    const row = body.insertRow();
    row.dataset.host = h.host_id;
    row.append(text("td", h.state === "skipped" ? "–" : String(h.batch + 1)));
    const cell = document.createElement("td");
    const a = text("a", h.host_id);
    a.href = "/hosts/" + encodeURIComponent(h.host_id);
    cell.append(a);
    row.append(cell);
    const state = document.createElement("td");
    state.className = "host-state";
    state.append(stateBadge(h.state));
    row.append(state, text("td", h.message, "host-message"));
  }
  section.append(table);
  if (r.analysis.length) {
    section.append(text("h3", "Analysis"));
    const list = document.createElement("ul");
    list.className = "analysis";
    for (const a of r.analysis) {
      const item = document.createElement("li");
      item.append(a.name + ": ", stateBadge(a.verdict), " (" + a.value + ")");
      list.append(item);
    }
    section.append(list);
  }
  section.dataset.updated = String(Date.now());
}

function followRollout(section) {
  const source = new EventSource(section.dataset.events);
  source.addEventListener("rollout", (event) => drawRollout(section, JSON.parse(event.data)));
  source.onerror = () => {
    section.dataset.stream = "reconnecting";
  };
  source.onopen = () => {
    section.dataset.stream = "open";
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("rollout");
  if (section && section.dataset.events) followRollout(section);
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    const verb = button && (button.dataset.verb || button.id);
    if (["abort", "rollback", "halt"].includes(verb) && !window.confirm("Really " + verb + "?")) {
      event.preventDefault();
    }
  });
});
