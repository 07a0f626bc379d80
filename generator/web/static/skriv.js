// beslut web: writing aids for the ärende form, so nobody has to know Markdown and nothing typed is lost.
// - a formatting toolbar over every Markdown field (a WAI-ARIA toolbar: Tab enters, arrow keys move);
// - pasting from Word or a web page turns the clipboard's HTML into the same Markdown;
// - unsaved text is kept in this browser and offered back ("Återställ osparad text");
// - leaving the page with unsaved changes asks first.
// Every page works without this file. Exposed for tests: window.beslutSkriv.htmlToMarkdown.
"use strict";
(function () {
  // --- HTML (Word's clipboard, a web page) to Markdown ------------------------------------

  function styleOf(el) { return (el.getAttribute && el.getAttribute("style")) || ""; }

  function escapeText(text) {
    return text.replace(/\\/g, "\\\\").replace(/([*_`\[\]])/g, "\\$1");
  }

  function isBold(el) {
    var tag = el.tagName;
    return tag === "B" || tag === "STRONG" || /font-weight:\s*(bold|[6-9]00)/i.test(styleOf(el));
  }

  function isItalic(el) {
    var tag = el.tagName;
    return tag === "I" || tag === "EM" || /font-style:\s*italic/i.test(styleOf(el));
  }

  // The text of inline content, with **bold**, *italic* and [links](…).
  function inline(node) {
    var out = "";
    node.childNodes.forEach(function (child) {
      if (child.nodeType === 3) { out += escapeText(child.nodeValue.replace(/[\s\u00a0]+/g, " ")); return; }
      if (child.nodeType !== 1) { return; }
      if (/mso-list:\s*ignore/i.test(styleOf(child))) { return; }  // Word's list marker
      var tag = child.tagName;
      if (tag === "BR") { out += "\n"; return; }
      if (tag === "STYLE" || tag === "SCRIPT" || tag === "META" || tag === "TITLE") { return; }
      var inner = inline(child);
      if (tag === "A" && child.getAttribute("href") && /^(https?:|mailto:)/i.test(child.getAttribute("href"))) {
        out += "[" + inner.trim() + "](" + child.getAttribute("href") + ")";
        return;
      }
      var text = inner;
      var core = text.trim();
      if (core && isBold(child) && !/^\*\*.*\*\*$/.test(core)) { text = text.replace(core, "**" + core + "**"); core = text.trim(); }
      if (core && isItalic(child)) { text = text.replace(core, "*" + core + "*"); }
      out += text;
    });
    return out;
  }

  function clean(text) { return text.replace(/[ \t]+\n/g, "\n").replace(/\n /g, "\n").trim(); }

  // Word writes list items as paragraphs: class MsoListParagraph…, style "mso-list:l0 level2 lfo1",
  // the marker ("·", "o", "1.", "a)") in a span styled mso-list:Ignore.
  function wordListItem(p) {
    var style = styleOf(p);
    var match = /mso-list:\s*l(\d+)\s+level(\d+)/i.exec(style);
    if (!match && !/MsoListParagraph/i.test(p.className || "")) { return null; }
    var marker = p.querySelector("[style*='mso-list:Ignore'], [style*='mso-list: Ignore'], [style*='mso-list:ignore']");
    var markerText = marker ? marker.textContent.replace(/[\s\u00a0]+/g, "") : "";
    return {
      list: match ? match[1] : "0",
      level: match ? parseInt(match[2], 10) : 1,
      ordered: /^\(?[0-9]+[.)]$|^\(?[a-zA-Z][.)]$|^[ivxIVX]+[.)]$/.test(markerText)
    };
  }

  function tableToMarkdown(table) {
    var rows = [];
    table.querySelectorAll("tr").forEach(function (tr) {
      var cells = [];
      tr.querySelectorAll("th, td").forEach(function (cell) {
        var parts = [];
        cell.querySelectorAll("p").length ? cell.querySelectorAll("p").forEach(function (p) { parts.push(clean(inline(p))); })
          : parts.push(clean(inline(cell)));
        cells.push(parts.filter(Boolean).join(" ").replace(/\n/g, " ").replace(/\|/g, "\\|"));
      });
      if (cells.length) { rows.push(cells); }
    });
    if (!rows.length) { return ""; }
    var width = Math.max.apply(null, rows.map(function (r) { return r.length; }));
    var line = function (cells) {
      while (cells.length < width) { cells.push(""); }
      return "| " + cells.join(" | ") + " |";
    };
    var out = [line(rows[0]), line(rows[0].map(function () { return "---"; }))];
    rows.slice(1).forEach(function (r) { out.push(line(r)); });
    return out.join("\n");
  }

  function htmlToMarkdown(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var blocks = [];
    var numbers = {};  // per Word list and level: the next number
    var lastWasList = false;

    function push(text, isList) {
      if (!text) { return; }
      if (isList && lastWasList) { blocks[blocks.length - 1] += "\n" + text; } else { blocks.push(text); }
      lastWasList = isList;
    }

    function htmlList(list, depth) {
      var n = 1;
      var lines = [];
      Array.prototype.forEach.call(list.children, function (li) {
        if (li.tagName !== "LI") { return; }
        var own = li.cloneNode(true);
        own.querySelectorAll("ul, ol").forEach(function (sub) { sub.remove(); });
        var marker = list.tagName === "OL" ? (n++) + ". " : "- ";
        lines.push("   ".repeat(depth) + marker + clean(inline(own)).replace(/\n/g, " "));
        li.querySelectorAll(":scope > ul, :scope > ol").forEach(function (sub) { lines.push(htmlList(sub, depth + 1)); });
      });
      return lines.join("\n");
    }

    function walk(parent) {
      Array.prototype.forEach.call(parent.children, function (el) {
        var tag = el.tagName;
        if (/^H[1-6]$/.test(tag)) {
          push("#".repeat(Math.min(3, parseInt(tag[1], 10))) + " " + clean(inline(el)).replace(/\*\*/g, ""), false);
        } else if (tag === "P" || tag === "DIV" && !el.querySelector("p, table, ul, ol, h1, h2, h3, div")) {
          var item = wordListItem(el);
          var text = clean(inline(el));
          if (item && text) {
            var key = item.list + ":" + item.level;
            Object.keys(numbers).forEach(function (k) {  // a deeper level restarts under a new parent
              var parts = k.split(":");
              if (parts[0] === item.list && parseInt(parts[1], 10) > item.level) { delete numbers[k]; }
            });
            var marker = item.ordered ? (numbers[key] = (numbers[key] || 0) + 1) + ". " : "- ";
            push("   ".repeat(item.level - 1) + marker + text.replace(/\n/g, " "), true);
          } else if (text) {
            push(text, false);
          }
        } else if (tag === "UL" || tag === "OL") {
          push(htmlList(el, 0), false);
        } else if (tag === "TABLE") {
          push(tableToMarkdown(el), false);
        } else if (tag === "STYLE" || tag === "SCRIPT") {
          return;
        } else if (el.children.length) {
          walk(el);
        } else if (clean(inline(el))) {
          push(clean(inline(el)), false);
        }
      });
    }

    walk(doc.body);
    return blocks.join("\n\n");
  }

  window.beslutSkriv = {htmlToMarkdown: htmlToMarkdown};

  var form = document.getElementById("arendeformular") || document.getElementById("utskicksformular");
  if (!form) { return; }

  // --- the toolbar ----------------------------------------------------------------------

  function insert(area, text, selectFrom, selectTo) {
    area.focus();
    var start = area.selectionStart;
    // execCommand keeps the browser's undo (Ctrl+Z); setRangeText where it is missing.
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input", {bubbles: true}));
    }
    if (selectFrom !== undefined) { area.setSelectionRange(start + selectFrom, start + selectTo); }
  }

  function wrap(area, mark, placeholder) {
    var selected = area.value.slice(area.selectionStart, area.selectionEnd) || placeholder;
    insert(area, mark + selected + mark, mark.length, mark.length + selected.length);
  }

  function selectLines(area) {
    var value = area.value;
    var from = value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    var to = value.indexOf("\n", area.selectionEnd);
    area.setSelectionRange(from, to === -1 ? value.length : to);
    return value.slice(from, to === -1 ? value.length : to);
  }

  function prefixLines(area, prefix, placeholder) {
    var lines = selectLines(area).split("\n");
    if (lines.length === 1 && !lines[0]) { lines = [placeholder]; }
    var n = 0;
    var text = lines.map(function (line) {
      if (!line.trim()) { return line; }
      n++;
      return prefix(n) + line.replace(/^(#+ |- |\* |\d+\. )/, "");
    }).join("\n");
    insert(area, text);
  }

  function ownLine(area, block) {
    var before = area.value.slice(0, area.selectionStart);
    var lead = !before ? "" : /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    insert(area, lead + block + "\n");
  }

  var ACTIONS = [
    ["fet", "Fetstil", function (a) { wrap(a, "**", "fet text"); }],
    ["kursiv", "Kursiv", function (a) { wrap(a, "*", "kursiv text"); }],
    ["rubrik", "Rubrik", function (a) { prefixLines(a, function () { return "# "; }, "Rubrik"); }],
    ["punktlista", "Punktlista", function (a) { prefixLines(a, function () { return "- "; }, "punkt"); }],
    ["numrerad", "Numrerad lista", function (a) { prefixLines(a, function (n) { return n + ". "; }, "punkt"); }],
    ["tabell", "Tabell", function (a) {
      ownLine(a, "| Rubrik 1 | Rubrik 2 |\n| --- | --- |\n| Text | Text |");
    }],
    ["fotnot", "Fotnot", function (a) {
      var used = (a.value.match(/\[\^(\d+)\]/g) || []).map(function (m) { return parseInt(m.slice(2), 10); });
      var n = used.length ? Math.max.apply(null, used) + 1 : 1;
      var end = a.selectionEnd;
      insert(a, "[^" + n + "]");
      a.setSelectionRange(a.value.length, a.value.length);
      var note = "[^" + n + "]: Fotnotens text";
      insert(a, (/\n\n$/.test(a.value) ? "" : /\n$/.test(a.value) ? "\n" : "\n\n") + note);
      a.setSelectionRange(a.value.length - "Fotnotens text".length, a.value.length);
      return end;
    }],
    ["lank", "Länk", function (a) {
      var selected = a.value.slice(a.selectionStart, a.selectionEnd) || "länktext";
      var text = "[" + selected + "](https://)";
      insert(a, text, selected.length + 3, selected.length + 11);
    }]
  ];

  function toolbarFor(area) {
    var bar = document.createElement("div");
    bar.className = "md-toolbar";
    bar.setAttribute("role", "toolbar");
    // Named "Textformat" only: the field's own label stays the one thing called by it.
    bar.setAttribute("aria-label", "Textformat");
    bar.setAttribute("aria-controls", area.id);
    ACTIONS.forEach(function (action, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "small md-" + action[0];
      button.textContent = action[1];
      button.tabIndex = i === 0 ? 0 : -1;
      button.addEventListener("click", function () { action[2](area); });
      bar.appendChild(button);
    });
    bar.addEventListener("keydown", function (e) {  // roving focus: one Tab stop, arrows within
      var buttons = Array.prototype.slice.call(bar.querySelectorAll("button"));
      var at = buttons.indexOf(document.activeElement);
      var to = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1}[e.key];
      if (to === undefined || at === -1) { return; }
      e.preventDefault();
      to = (to + buttons.length) % buttons.length;
      buttons[at].tabIndex = -1; buttons[to].tabIndex = 0; buttons[to].focus();
    });
    area.parentNode.insertBefore(bar, area);
    area.addEventListener("keydown", function (e) {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) { return; }
      var key = e.key.toLowerCase();
      if (key === "b") { e.preventDefault(); wrap(area, "**", "fet text"); }
      if (key === "i") { e.preventDefault(); wrap(area, "*", "kursiv text"); }
    });
    area.addEventListener("paste", function (e) {
      var html = e.clipboardData && e.clipboardData.getData("text/html");
      if (!html) { return; }
      var md = htmlToMarkdown(html);
      if (!md) { return; }
      e.preventDefault();
      insert(area, md);
    });
  }

  form.querySelectorAll("textarea[data-md]").forEach(toolbarFor);

  // --- unsaved text: kept in this browser until saved, and a warning before leaving --------

  var key = "beslut-osparat:" + location.pathname + location.search;
  var fields = function () {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf" && el.name !== "version" &&
        (el.tagName === "TEXTAREA" || el.tagName === "INPUT" && /^(text|email|tel|date)$/.test(el.type));
    });
  };
  var snapshot = function () { return fields().map(function (el) { return [el.name, el.value]; }); };
  var loaded = JSON.stringify(snapshot());
  var dirty = false;
  var saveTimer = null;

  form.addEventListener("input", function (e) {
    if (e.target.type === "file") { return; }
    dirty = JSON.stringify(snapshot()) !== loaded;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      try {
        if (dirty) {
          localStorage.setItem(key, JSON.stringify({at: new Date().toISOString(), fields: snapshot()}));
        } else {
          localStorage.removeItem(key);
        }
      } catch (err) { /* private mode or full: the warning before leaving still protects */ }
    }, 400);
  });
  form.addEventListener("submit", function () {
    dirty = false;
    clearTimeout(saveTimer);
    // Kept until the server has the text: a refused save returns the form with it, a saved one
    // shows the saved values and the offer below is not made (they are equal).
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = ""; }
  });

  var kept = null;
  try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (err) { kept = null; }
  if (kept && kept.fields && JSON.stringify(kept.fields) !== loaded) {
    var box = document.createElement("div");
    box.className = "restore";
    box.setAttribute("role", "region");
    box.setAttribute("aria-labelledby", "osparat-rubrik");
    var when = new Date(kept.at);
    box.innerHTML = '<p id="osparat-rubrik"><strong>Det finns osparad text från ' +
      when.toLocaleString("sv-SE") + '.</strong> Den skrevs här men sparades aldrig.</p>';
    var restore = document.createElement("button");
    restore.type = "button"; restore.textContent = "Återställ osparad text";
    var discard = document.createElement("button");
    discard.type = "button"; discard.className = "secondary"; discard.textContent = "Släng den";
    restore.addEventListener("click", function () {
      var byName = {};
      fields().forEach(function (el) { (byName[el.name] = byName[el.name] || []).push(el); });
      var seen = {};
      kept.fields.forEach(function (pair) {
        var i = seen[pair[0]] = (seen[pair[0]] || 0);
        seen[pair[0]]++;
        var el = (byName[pair[0]] || [])[i];
        if (el) { el.value = pair[1]; }
      });
      box.remove();
      dirty = true;
      form.dispatchEvent(new Event("input", {bubbles: true}));
      var first = fields()[0];
      if (first) { first.focus(); }
    });
    discard.addEventListener("click", function () {
      try { localStorage.removeItem(key); } catch (err) { /* nothing kept */ }
      box.remove();
    });
    box.appendChild(restore); box.appendChild(document.createTextNode(" ")); box.appendChild(discard);
    form.parentNode.insertBefore(box, form);
  } else if (kept) {
    try { localStorage.removeItem(key); } catch (err) { /* nothing kept */ }
  }
})();
