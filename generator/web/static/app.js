// beslut web: a little progressive enhancement. Every page works without this file.
"use strict";
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function post(url, body, accept) {
    return fetch(url, {method: "POST", body: body, credentials: "same-origin",
                       headers: {"X-CSRF-Token": csrf, "Accept": accept || "application/json"}});
  }

  function formData(form, extra) {
    var data = new FormData(form);
    data.delete("filer");
    for (var key in (extra || {})) { data.set(key, extra[key]); }
    return data;
  }

  // --- live validation: the CLI's messages at the fields and in the summary ---
  var form = document.getElementById("arendeformular");
  if (form) {
    var timer = null;
    var summary = document.getElementById("felsammanfattning");
    var list = document.getElementById("fellista");
    var heading = document.getElementById("felrubrik");
    var status = document.getElementById("felstatus");

    var reviewList = document.getElementById("granskningslista");
    var reviewHeading = document.getElementById("granskningsrubrik");
    var reviewBox = document.getElementById("granskning");

    function entry(p, prefix) {
      var li = document.createElement("li");
      if (prefix) {
        li.className = p.severity;
        var strong = document.createElement("strong");
        strong.textContent = p.label + ":";
        li.appendChild(strong); li.appendChild(document.createTextNode(" "));
      }
      var href = p.href || (p.anchor && document.getElementById(p.anchor) ? "#" + p.anchor : null);
      if (href) {
        var a = document.createElement("a");
        a.href = href; a.textContent = p.text; li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(p.text));
      }
      if (p.tech && p.tech !== p.text) {
        var details = document.createElement("details");
        details.className = "tech";
        var summary = document.createElement("summary");
        summary.textContent = "Visa tekniska detaljer";
        var code = document.createElement("code");
        code.textContent = p.tech;
        details.appendChild(summary); details.appendChild(code); li.appendChild(details);
      }
      return li;
    }

    function reviewTitle(reviewed, stopp, varningar) {
      if (!reviewed) { return "Granskningen görs när felen ovan är rättade"; }
      if (!stopp && !varningar) { return "Granskningen hittade inget att ändra"; }
      var parts = [];
      if (stopp) { parts.push(stopp + " stopp"); }
      if (varningar) { parts.push(varningar + (varningar === 1 ? " varning" : " varningar")); }
      return "Granskningen: " + parts.join(" och ");
    }

    function show(problems, findings, reviewed, lix) {
      form.querySelectorAll(".field-error").forEach(function (p) {
        p.hidden = true; p.textContent = "";
      });
      form.querySelectorAll(".field-review").forEach(function (ul) {
        ul.hidden = true; ul.textContent = "";
      });
      form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
      list.textContent = "";
      problems.forEach(function (p) {
        var target = p.anchor && document.getElementById(p.anchor);
        if (target) {
          var err = document.getElementById(p.anchor + "-fel");
          if (err) { err.textContent = (err.textContent ? err.textContent + " " : "") + p.message; err.hidden = false; }
          target.setAttribute("aria-invalid", "true");
        }
        list.appendChild(entry(p, false));
      });
      var stopp = 0, varningar = 0;
      if (findings) {
        reviewList.textContent = "";
        findings.forEach(function (f) {
          if (f.severity === "stopp") { stopp++; } else { varningar++; }
          reviewList.appendChild(entry(f, true));
          var target = f.anchor && document.getElementById(f.anchor);
          var here = f.anchor && document.getElementById(f.anchor + "-granskning");
          if (here) {
            var li = document.createElement("li");
            li.className = f.severity;
            var strong = document.createElement("strong");
            strong.textContent = f.label + ":";
            li.appendChild(strong); li.appendChild(document.createTextNode(" " + f.message));
            here.appendChild(li); here.hidden = false;
          }
          if (target && f.severity === "stopp" && target.matches("input, textarea")) { target.setAttribute("aria-invalid", "true"); }
        });
        reviewHeading.textContent = reviewTitle(reviewed, stopp, varningar);
        reviewBox.classList.toggle("has-stopp", stopp > 0);
        reviewBox.classList.toggle("has-varning", stopp === 0 && varningar > 0);
      }
      if (lix) {
        form.querySelectorAll("p.lix").forEach(function (p) {
          var id = p.id.replace(/-lix$/, "");
          p.textContent = lix[id] ? "Läsbarhet: " + lix[id] : "";
          p.hidden = !lix[id];
        });
      }
      summary.classList.toggle("none", problems.length === 0);
      if (findings) { summary.classList.toggle("held", problems.length === 0 && stopp > 0); }
      heading.textContent = problems.length ? "Ärendet har " + problems.length + " fel"
        : stopp ? "Inga fel i fälten, men granskningen har stopp" : "Inga fel: handlingarna går att skapa";
      status.textContent = (problems.length ? problems.length + " fel i ärendet" : "Inga fel")
        + (findings ? ". " + reviewTitle(reviewed, stopp, varningar) : "");
    }

    function check() {
      post(form.dataset.checkUrl, formData(form)).then(function (r) { return r.json(); })
        .then(function (data) { if (data.problems) { show(data.problems, data.findings, data.reviewed, data.lix); } })
        .catch(function () {});
    }

    form.addEventListener("input", function (e) {
      if (e.target.type === "file") { return; }
      clearTimeout(timer); timer = setTimeout(check, 500);
    });

    // --- preview in the page instead of a new tab ---
    var pane = document.getElementById("forhandsgranskning");
    var frame = document.getElementById("forhandsgranskning-ram");
    var pstatus = document.getElementById("forhandsgranskning-status");
    var lastUrl = null;
    form.querySelectorAll("button.preview").forEach(function (button) {
      button.addEventListener("click", function (e) {
        e.preventDefault();
        pane.hidden = false;
        pane.parentNode.classList.add("with-preview");
        pstatus.textContent = "Skapar förhandsgranskningen …";
        button.disabled = true;
        post(button.formAction, formData(form, {atgard: button.value}), "application/pdf, application/json")
          .then(function (r) {
            if (r.ok) { return r.blob(); }
            return r.json().then(function (data) {
              if (data.problems) { show(data.problems); throw new Error("Rätta felen i ärendet först (se listan överst)."); }
              throw new Error(data.fel || "Förhandsgranskningen gick inte att göra.");
            });
          })
          .then(function (blob) {
            if (lastUrl) { URL.revokeObjectURL(lastUrl); }
            lastUrl = URL.createObjectURL(blob);
            frame.src = lastUrl;
            frame.dataset.bytes = blob.size;
            pstatus.textContent = "Förhandsgranskningen är klar (" + (button.value === "forhandsgranska" ? "dokumentet" : "handlingar.pdf") + ").";
          })
          .catch(function (err) { pstatus.textContent = err.message; })
          .finally(function () { button.disabled = false; });
      });
    });

    // --- Markdown: show the text as it will be formatted ---
    form.querySelectorAll("button.md-toggle").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var box = document.getElementById(button.dataset.for + "-visning");
        if (!box.hidden) { box.hidden = true; button.textContent = "Visa formaterad text"; return; }
        var data = new FormData();
        data.set("text", document.getElementById(button.dataset.for).value);
        post("/markdown", data, "text/html").then(function (r) { return r.text(); }).then(function (html) {
          box.innerHTML = html; box.hidden = false; button.textContent = "Dölj formaterad text";
        });
      });
    });
  }

  // --- a job's progress ---
  var job = document.getElementById("jobb");
  if (job && job.dataset.finished === "nej") {
    var bar = document.getElementById("framsteg");
    var text = document.getElementById("jobbstatus");
    var poll = function () {
      fetch(job.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        if (s.finished) { window.location.reload(); return; }
        bar.max = s.total || 1; bar.value = s.done;
        text.textContent = s.state === "väntar" ? "Väntar på en ledig omvandlare …" : (s.current || "Startar …");
        setTimeout(poll, 600);
      }).catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 300);
  }

  // --- removing asks first: an accessible dialog (native <dialog>: focus kept inside, Esc closes) ---
  var dialog = document.getElementById("bekrafta");
  if (dialog && typeof dialog.showModal === "function") {
    var pending = null, opener = null;
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (e) {
        if (button.dataset.confirmed === "ja") { return; }
        e.preventDefault();
        pending = button; opener = button;
        document.getElementById("bekrafta-text").textContent = button.dataset.confirm;
        dialog.showModal();
        document.getElementById("bekrafta-nej").focus();
      });
    });
    var confirmed = null;
    document.getElementById("bekrafta-ja").addEventListener("click", function () {
      confirmed = pending; pending = null;
      dialog.close();
    });
    document.getElementById("bekrafta-nej").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      var button = confirmed;
      confirmed = null; pending = null;
      if (button) {  // the button's own click, now let through: the form is sent with it as submitter
        button.dataset.confirmed = "ja";
        button.click();
      } else if (opener) { opener.focus(); }
    });
  }

  // --- after a list button: the new or moved item (the URL's #anchor) gets the focus ---
  var target = (form && form.dataset.goto && document.getElementById(form.dataset.goto))
    || (window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1))));
  var focusTarget = function () {
    if (target && target.matches("input, textarea, select")) { target.focus(); }
    else if (target) { target.scrollIntoView(); }
  };
  // after the browser's own scroll to the URL's #anchor (which would take the focus away)
  if (document.readyState === "complete") { setTimeout(focusTarget, 0); }
  else { window.addEventListener("load", function () { setTimeout(focusTarget, 0); }); }

  // --- files too big for the server are named before anything is sent ---
  var files = document.getElementById("filer");
  if (form && files) {
    form.addEventListener("submit", function (e) {
      var total = 0, big = [];
      Array.prototype.forEach.call(files.files, function (f) {
        total += f.size;
        if (f.size > Number(form.dataset.maxFile)) { big.push(f.name); }
      });
      if (total > Number(form.dataset.maxTotal)) {
        e.preventDefault();
        var box = document.getElementById("nekad-klient") || document.createElement("div");
        box.id = "nekad-klient"; box.className = "conflict"; box.setAttribute("role", "alert"); box.tabIndex = -1;
        box.innerHTML = "<h2>Inte skickat</h2><p></p>";
        box.querySelector("p").textContent = "De valda filerna är tillsammans " + Math.round(total / 1048576)
          + " MB, mer än servern tar emot (" + Math.round(Number(form.dataset.maxTotal) / 1048576) + " MB)"
          + (big.length ? "; för stora: " + big.join(", ") : "") + ". Välj färre eller mindre filer. Inget av det du skrivit har försvunnit.";
        form.parentNode.parentNode.insertBefore(box, form.parentNode);
        box.focus();
      }
    });
  }

  // --- the text editor: the caret at the line the error is on ---
  var text = document.querySelector("textarea[data-line]");
  if (text) {
    var line = Number(text.dataset.line), at = 0;
    for (var n = 1; n < line; n++) { at = text.value.indexOf("\n", at) + 1; if (at === 0) { break; } }
    text.setSelectionRange(at, at);
  }

  // --- on a narrow screen a table's rows become blocks: each cell says its column's heading ---
  document.querySelectorAll("table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent; });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) { if (heads[i]) { td.dataset.rubrik = heads[i]; } });
    });
  });

  // --- an error summary on load gets the focus, so its links are read first ---
  var errors = document.querySelector("#nekad[tabindex], .error-summary[role=alert][tabindex]");
  if (errors && !(target && target.matches("input, textarea, select"))) { errors.focus(); }
})();
