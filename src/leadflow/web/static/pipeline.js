// The pipeline board's enhancements. Without this file every card moves with its own buttons, one
// stage at a time (a form post answered with the board again). With it: a card can also be dragged
// to any column, which posts the same form with that column's stage, and after a move the focus
// returns to the moved card's button, so that a keyboard user can move it on again.
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) { return; }
  var dragged = null;

  function columnOf(node) {
    return node && node.closest ? node.closest(".board-column") : null;
  }

  function clearTargets() {
    board.querySelectorAll(".board-column.drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  }

  // Post the board's form as the card's buttons do, with the stage it was dropped on (the server
  // checks every stage passed).
  function moveCard(card, stage) {
    if (!stage || card.getAttribute("data-stage") === stage) { return; }
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "move";
    field.value = card.getAttribute("data-id") + ":" + stage;
    board.appendChild(field);
    card.classList.add("moving");
    card.setAttribute("aria-busy", "true");
    board.submit();
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("li.card.movable") : null;
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    card.classList.add("dragging");
  });

  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearTargets();
  });

  board.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearTargets();
      column.classList.add("drop-target");
    }
  });

  board.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) { return; }
    event.preventDefault();
    var card = dragged;
    clearTargets();
    moveCard(card, column.getAttribute("data-stage"));
  });

  // Back on the board after a move: the moved card's button of the same direction has the focus
  // (else its other button, else its link). Once more when the page has loaded, as the browser's
  // jump to the card's address fragment may come after this script.
  var params = new URLSearchParams(window.location.search);
  var moved = params.get("moved");
  var card = moved ? document.getElementById("card-" + moved) : null;
  if (card) {
    var wanted = params.get("focus") === "previous" ? ".move-previous" : ".move-next";
    var target = card.querySelector(wanted) || card.querySelector(".move-previous, .move-next") ||
      card.querySelector(".card-name a");
    if (target) {
      target.focus();
      window.addEventListener("load", function () {
        if (document.activeElement !== target) { target.focus(); }
      });
    }
  }
})();
