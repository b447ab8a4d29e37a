// The ask page: chosen experts (add / remove, the panel type's min and max), the rounds
// of the chosen type, and the question's length as the user types. The server checks
// everything again; this only says it early.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form) return;
  var chosen = document.getElementById("chosen");
  var rule = document.getElementById("experts-rule");
  var submit = document.getElementById("ask-submit");
  var rounds = form.querySelector("[name=max_rounds]");
  var query = form.querySelector("[name=query]");
  var queryHelp = document.getElementById("query-help");

  function selectedType() { return form.querySelector(".type-radio:checked"); }
  function chosenSlugs() {
    return Array.prototype.map.call(chosen.querySelectorAll("input[name=experts]"), function (i) { return i.value; });
  }
  function changed() { check(); document.body.dispatchEvent(new Event("experts-changed")); }

  function check() {
    var type = selectedType();
    var count = chosenSlugs().length;
    var ok = true;
    if (!type) {
      rule.textContent = "Choose a panel type.";
      ok = false;
    } else {
      var min = +type.dataset.min, max = +type.dataset.max;
      var text = type.dataset.label + ": " + min + " to " + max + " experts. ";
      if (count === 0) {
        text += "Leave the list empty and the panel picks " + Math.min(+type.dataset.defaultExperts, max) + " for you.";
      } else if (count < min) {
        text += "You chose " + count + "; add " + (min - count) + " more, or remove them all to let the panel pick.";
        ok = false;
      } else if (count > max) {
        text += "You chose " + count + "; remove " + (count - max) + ".";
        ok = false;
      } else {
        text += "You chose " + count + ".";
      }
      rule.textContent = text;
      rule.classList.toggle("error", !ok);
      form.querySelectorAll(".add-expert").forEach(function (button) {
        button.disabled = count >= max || chosenSlugs().indexOf(button.dataset.slug) >= 0;
      });
    }
    var length = query.value.trim().length;
    var min = +queryHelp.dataset.min, maxLength = +queryHelp.dataset.max;
    var queryOk = length >= min && length <= maxLength;
    queryHelp.textContent = length + " of " + min + " to " + maxLength + " characters" +
      (length && length < min ? ": a little more, please." : ".");
    queryHelp.classList.toggle("error", length > 0 && !queryOk);
    submit.disabled = !ok || !queryOk;
  }

  function typeChanged() {
    var type = selectedType();
    if (!type) return;
    rounds.max = type.dataset.maxRounds;
    if (!rounds.value || +rounds.value > +rounds.max) rounds.value = type.dataset.defaultRounds;
    check();
  }

  form.addEventListener("click", function (event) {
    var add = event.target.closest(".add-expert");
    var remove = event.target.closest(".remove-expert");
    if (add) {
      var type = selectedType();
      if (chosenSlugs().indexOf(add.dataset.slug) >= 0 || (type && chosenSlugs().length >= +type.dataset.max)) return;
      var item = document.getElementById("chosen-template").content.firstElementChild.cloneNode(true);
      item.dataset.slug = add.dataset.slug;
      item.querySelector("input").value = add.dataset.slug;
      item.querySelector(".expert-name").textContent = add.dataset.name;
      item.querySelector(".expert-title").textContent = add.dataset.title;
      item.querySelector(".remove-expert").setAttribute("aria-label", "Remove " + add.dataset.name);
      chosen.appendChild(item);
      changed();
    } else if (remove) {
      remove.closest("li").remove();
      changed();
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.classList.contains("type-radio")) typeChanged();
  });
  query.addEventListener("input", check);
  document.getElementById("expert-search").addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();  // search, do not submit the panel
  });
  document.body.addEventListener("htmx:afterSwap", check);  // new Add buttons
  typeChanged();
})();
