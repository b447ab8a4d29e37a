// Documents page: upload the chosen or dropped files one request per file, each with its
// own progress bar; the server answers with an escaped <li> fragment saying what became of
// the file. Then the documents table (htmx) is told to refresh. Without JavaScript the
// form posts every file at once and the page shows the same outcomes.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("upload-files");
  var dropzone = document.getElementById("upload-dropzone");
  var results = document.getElementById("upload-results");
  var chosen = document.getElementById("upload-chosen");
  var hint = chosen.textContent;
  var uploadUrl = form.dataset.uploadUrl;

  function uploadOne(file, tags, row) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("file", file, file.name);
      data.append("tags", tags);
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      var xhr = new XMLHttpRequest();
      var bar = row.querySelector("progress");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = event.loaded / event.total;
      });
      xhr.addEventListener("load", function () {
        if (xhr.getResponseHeader("Content-Type") && xhr.getResponseHeader("Content-Type").indexOf("text/html") === 0
            && xhr.responseText.trim().indexOf("<li") === 0) {
          row.outerHTML = xhr.responseText;  // rendered and escaped by the server
        } else {
          showText(row, file.name + ": the upload failed (" + xhr.status + "). Try again.");
        }
        resolve();
      });
      xhr.addEventListener("error", function () {
        showText(row, file.name + ": the upload did not reach the server. Check your connection and try again.");
        resolve();
      });
      xhr.open("POST", uploadUrl);
      xhr.send(data);
    });
  }

  function showText(row, text) {
    row.className = "error";
    row.textContent = text;
  }

  function uploadAll(files) {
    if (!files.length) return;
    var tags = form.querySelector("[name=tags]").value;
    var rows = Array.prototype.map.call(files, function (file) {
      var row = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      row.appendChild(name);
      row.appendChild(bar);
      results.appendChild(row);
      return row;
    });
    // One after another: the server takes one upload at a time per tenant anyway.
    var chain = Promise.resolve();
    Array.prototype.forEach.call(files, function (file, index) {
      chain = chain.then(function () { return uploadOne(file, tags, rows[index]); });
    });
    chain.then(function () {
      input.value = "";
      chosen.textContent = hint;
      document.body.dispatchEvent(new CustomEvent("documents-changed"));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    results.textContent = "";
    uploadAll(input.files);
  });

  input.addEventListener("change", function () {
    var names = Array.prototype.map.call(input.files, function (file) { return file.name; });
    chosen.textContent = names.length ? names.length + " chosen: " + names.join(", ") + " — press Upload" : hint;
  });

  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    results.textContent = "";
    uploadAll(event.dataTransfer.files);
  });
})();
