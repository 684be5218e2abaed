"""A refused request in the user's language, for every HTTP entry point: the web pages and the REST API.

The services refuse with a ``LeadflowError``: a stable code, an English sentence a person can act on,
and details. In English that sentence is shown as it is: it names the record and the way out. Other
languages show the catalogue's translation of that exact sentence when there is one, else the
sentence of its code below, filled from the details; else the English sentence. Problems with single
fields have a message of their own, by their code, in every language.

A web page shows the sentence above its form and each field's message next to the field
(``leadflow.web.forms``); the REST API answers both in its error body, in the language the request's
``Accept-Language`` prefers, with the same codes whatever the language (``leadflow.http.errors``).

Why this module is over 600 lines: three quarters of it are the two catalogues (a sentence per refusal
code, a message per field problem), kept in one place so that a translator and a reviewer read every
code's wording together; the code is a hundred lines.
"""

from __future__ import annotations

from typing import Any

from leadflow.core.errors import LeadflowError
from leadflow.http.labels import DEPTH_LABELS, PRIVILEGE_LABELS, TABLE_LABELS, label
from leadflow.http.language import DEFAULT_LANGUAGE, N_, gettext
from leadflow.security.credentials import MIN_PASSWORD_LENGTH

# Sentences of the services the catalogues translate word for word (they carry no values); listed so
# that the catalogue check asks for their translation.
SERVICE_SENTENCES = (
    N_("The lead is closed and you can't convert or qualify a lead that is already closed."),
    N_("You can't disqualify this lead because an opportunity is associated with it."),
    N_("No lead record was created or updated because a duplicate of the current record already exists."),
    N_("No account record was created or updated because a duplicate of the current record already exists."),
    N_("No contact record was created or updated because a duplicate of the current record already exists."),
    N_("No opportunity record was created or updated because a duplicate of the current record already exists."),
    N_("The account or contact might already exist."),
    N_("Merge the duplicates and try again."),
    N_("Unpublish the duplicate detection rule."),
    N_("Turn on the rule's 'exclude inactive matching records' option so that closed records are not matched."),
    N_("This lead is closed and read-only; reactivate it to edit it."),
    N_("This lead is already open; only qualified or disqualified leads can be reactivated."),
    N_("The cursor is not valid for this list; start again from the first page."),
    N_("The organisation's last active System Administrator cannot be deactivated."),
    N_("This user is no longer active."),
    N_("The email or password is wrong."),
    # Opportunities
    N_("Name the competitor who won the deal: an out-sold opportunity needs one."),
    N_("The opportunity is closed as won; reopen it before changing it."),
    N_("The opportunity is closed as lost; reopen it before changing it."),
    N_("The opportunity is already open."),
    # Lead to order
    N_(
        "The total in the base currency would be over 1,000,000,000,000, the most an amount can be; "
        "check the currency's exchange rate."
    ),
    # The REST API's own
    N_("Sign in first: send `Authorization: Bearer <token>` with a token from POST /api/v1/auth/token."),
    N_("There is nothing at this address; check the URL against /api/v1/docs."),
    N_("This address does not accept that method; see /api/v1/docs."),
    N_("The request body is not valid JSON; send a JSON object in UTF-8."),
)

# The sentence of each refusal code, with ``%(name)s`` placeholders filled from the error's details.
REFUSALS = {
    # Any page
    "forbidden": N_(
        "You lack the %(privilege)s privilege on %(table)s (your roles grant it at level %(level)s); "
        "ask an administrator for a role that does."
    ),
    "stale_etag": N_(
        "This record was changed by someone else since you loaded it; reload it and apply your change again."
    ),
    "concurrent_update": N_("Someone else changed this record while you were working on it; reload it and try again."),
    "validation_failed": N_("Some fields need your attention; see the messages next to them."),
    "required": N_("Some required fields are empty; fill them in."),
    "invalid_option": N_("Some fields have a value that is not one of the options; choose one of the options."),
    "invalid_value": N_("Some fields have a value that is not valid; correct them."),
    "invalid_cursor": N_("The page link is out of date; start again from the first page."),
    "invalid_limit": N_("The page size is out of range."),
    "invalid_sort": N_("The list cannot be sorted that way; it is sorted by creation date instead."),
    "not_found": N_("This record does not exist or was deleted."),
    "organisation_not_set_up": N_("The organisation is not set up yet; ask whoever installed leadflow."),
    "internal_error": N_(
        "Something went wrong on the server; nothing was changed. If it happens again, give this id to your "
        "administrator: %(request_id)s."
    ),
    "invalid_json": N_("The request body is not valid JSON; send a JSON object."),
    "request_too_large": N_("The request body is larger than the size limit; send less at once."),
    # Sales records, notes and attachments
    "lead_not_found": N_("This lead does not exist or was deleted."),
    "account_not_found": N_("This account does not exist or was deleted."),
    "contact_not_found": N_("This contact does not exist or was deleted."),
    "opportunity_not_found": N_("This opportunity does not exist or was deleted."),
    "note_not_found": N_("This note does not exist on this record."),
    "attachment_not_found": N_("This note has no attachment."),
    "empty_note": N_("A note needs a title, a text or an attachment."),
    "attachment_too_large": N_("The attachment is larger than the size limit; send a smaller file."),
    "too_large": N_("The attachment is larger than the size limit; send a smaller file."),
    "invalid_currency": N_("The currency is not valid."),
    "currency_not_enabled": N_("This currency is not enabled in the organisation; an administrator can add it."),
    "customer_id_not_found": N_("The potential customer names no existing account or contact."),
    "last_stage": N_("The opportunity is already at the last stage, Close."),
    "qualify_stage_is_on_the_lead": N_("An opportunity cannot go back to Qualify; that stage belongs to the lead."),
    # Custom fields
    "custom_field_not_found": N_("This custom field does not exist or was removed."),
    "custom_field_mapping_not_found": N_("This mapping does not exist or was removed."),
    "saved_view_not_found": N_("This saved view does not exist, or it is not shared with you."),
    "webhook_not_found": N_("This webhook does not exist or was deleted."),
    "webhook_delivery_not_found": N_("This delivery does not exist or was removed."),
    "values_do_not_convert": N_(
        "%(count)s records hold a value of %(field)s that does not fit the new settings; change or clear those values first."
    ),
    "field_in_use": N_(
        "The duplicate detection rules %(rules)s compare the field %(field)s; take it out of their conditions (or delete those rules) first."
    ),
    "field_has_values": N_(
        "%(count)s records hold a value of %(field)s; removing the field removes them (the audit log keeps them). Confirm to remove it."
    ),
    # Import and export: the file, the mapping, a row
    "empty_file": N_("The file is empty; export it again with a header row and at least one record."),
    "no_header": N_("The file's first row is empty; its first row must name the columns."),
    "not_a_table": N_(
        "This file is not a spreadsheet leadflow reads; save it as CSV (UTF-8) or as an Excel workbook (.xlsx)."
    ),
    "bad_encoding": N_(
        "Row %(row)s has characters in another encoding than the rest of the file; save the file as CSV UTF-8."
    ),
    "malformed_csv": N_("Row %(row)s cannot be read as CSV (a quote is not closed, or a cell is too long); check it."),
    "unsafe_file": N_(
        "This workbook is refused because it could harm the server (it unpacks to far more than its size, or it refers to other files); save it again from Excel."
    ),
    "sheet_not_found": N_("The workbook has no sheet named %(sheet)s; check the sheet's name."),
    "file_too_large": N_(
        "The file is larger than the limit of %(size)s; split it into smaller files and import each one."
    ),
    "required_column_unmapped": N_(
        "No column of the file is mapped to %(column)s, which every new record needs; map a column to it."
    ),
    "column_not_importable": N_(
        "The column %(column)s is mapped to a field this table does not have; choose another field or leave it out."
    ),
    "column_mapped_twice": N_("Two columns are mapped to the same field; map only one of them."),
    "invalid_match_column": N_(
        "To match on %(column)s, map a column of the file to it; only the id and columns that name one record (e-mail, name, phone, website) can be matched on."
    ),
    "invalid_columns": N_("The mapping must say, for each header, which field it fills."),
    "mapping_not_found": N_("There is no saved mapping of that name for this table."),
    "invalid_mapping_name": N_("Give the mapping a name of 1 to 100 characters."),
    "file_imported": N_("This file was imported already; upload it again to import it once more."),
    "export_not_ready": N_("The export is not finished yet; try again when its job has succeeded."),
    "ragged_row": N_(
        "This row has %(cells)s values but the header has %(headers)s columns; check the row's separators and quotes."
    ),
    "already_imported": N_("An earlier import of this same file saved this row; it was skipped."),
    "key_match": N_("A record with the same key exists; the row was skipped."),
    "ambiguous_match": N_(
        "Several records match this row; choose a key column (such as the id or the e-mail) to say which one to update."
    ),
    # Qualifying leads
    "multiple_opportunities_not_allowed": N_(
        "Several opportunities can be created from one lead only when the qualification settings let the seller "
        "create opportunities."
    ),
    "contradictory_options": N_("The answers contradict each other; check which records to create."),
    "existing_opportunity_id_closed": N_("The opportunity you chose is closed; reopen it first or choose an open one."),
    "existing_opportunity_id_other_customer": N_(
        "The opportunity you chose belongs to another customer; choose one of the lead's account or contact, "
        "or link the lead to that opportunity's customer."
    ),
    # Opportunities, competitors, currencies, the board and the forecast (sentences whose English names a value)
    "competitor_in_use": N_("Opportunities name this competitor; it cannot be deleted while they do."),
    "competitor_not_found": N_("This competitor does not exist or was deleted."),
    "currency_in_use": N_("Records in this currency exist; it cannot be removed while they do."),
    "base_currency": N_("This is the base currency; it cannot be removed."),
    "base_currency_rate": N_("This is the base currency: its exchange rate is 1."),
    "currency_exists": N_("This currency is already enabled."),
    "base_currency_in_use": N_("The base currency cannot change once records hold amounts or name a currency."),
    "currency_not_found": N_("This currency does not exist or was removed."),
    "status_reason_not_of_state": N_("Choose one of the status reasons offered."),
    "invalid_period": N_("Write a period as a year (2026), a quarter (2026-Q4) or a month (2026-11)."),
    "unknown_stage": N_("Choose one of the board's stages: Develop, Propose or Close."),
    "lead_not_saved": N_("The database refused this lead's records; nothing was saved for it."),
    "too_many_leads": N_("Too many leads were selected at once; select fewer."),
    # Lead to order: the product catalogue
    "unit_group_not_found": N_("This unit group does not exist or was deleted."),
    "unit_not_found": N_("This unit does not exist or was deleted."),
    "family_not_found": N_("This product family does not exist or was deleted."),
    "product_not_found": N_("This product does not exist or was deleted."),
    "price_list_not_found": N_("This price list does not exist or was deleted."),
    "price_list_item_not_found": N_("This price list has no such item; it may have been removed."),
    "discount_list_not_found": N_("This discount list does not exist or was deleted."),
    "unit_group_name_taken": N_("Another unit group already has this name; choose another."),
    "unit_name_taken": N_("The unit group already has a unit with this name; choose another."),
    "family_name_taken": N_("Another product family already has this name; choose another."),
    "product_number_taken": N_("Another product already has this number; choose another."),
    "price_list_name_taken": N_("Another price list already has this name; choose another."),
    "discount_list_name_taken": N_("Another discount list already has this name; choose another."),
    "price_list_item_exists": N_("The price list already prices this product in this unit; change that item instead."),
    "unit_group_in_use": N_("Products are sold in the units of this group; delete them or move them first."),
    "unit_in_use": N_(
        "This unit is in use (by a product, a price, a product line or another unit); it cannot be deleted."
    ),
    "base_unit": N_("A group's base unit goes only with its group; delete the group instead."),
    "base_unit_quantity": N_("A base unit is always a quantity of 1."),
    "unit_not_in_group": N_("The unit is not one of the product's unit group; choose one of its units."),
    "product_active": N_("The product is already active."),
    "product_retired": N_("The product is already retired."),
    "product_not_active": N_("Only active products can be sold; this product is a draft or retired."),
    "product_not_draft": N_(
        "Only a draft product can be deleted or moved to another unit group; retire the product instead."
    ),
    "product_has_prices": N_(
        "Price lists price this product in the units of its group; remove those prices before moving it to "
        "another unit group."
    ),
    "amount_required": N_("A currency amount item needs its amount."),
    "percentage_required": N_("This pricing method needs a percentage."),
    "margin_percentage_too_high": N_("A margin must be below 100 %."),
    "rounding_option_required": N_("Say whether the price ends in the rounding amount or is a multiple of it."),
    "rounding_amount_required": N_("Give the amount the price is rounded to."),
    "discount_list_currency": N_("An amount discount list must be in the price list's currency."),
    "discount_over_100": N_("A percentage discount is at most 100."),
    "tiers_overlap": N_("Two tiers of the discount list cover the same quantity; make them not overlap."),
    "valid_to_before_valid_from": N_("The end date comes before the start date."),
    "price_list_item_amount_missing": N_("The price list item has no amount to price with; give it one."),
    "product_list_price_missing": N_(
        "The price list item prices by the product's list price, which the product does not have; give it one."
    ),
    "product_current_cost_missing": N_(
        "The price list item prices by the product's current cost, which the product does not have; give it one."
    ),
    "product_standard_cost_missing": N_(
        "The price list item prices by the product's standard cost, which the product does not have; give it one."
    ),
    # Lead to order: product lines, quotes, orders and invoices
    "line_not_found": N_("This product line does not exist or was removed."),
    "quote_not_found": N_("This quote does not exist or was deleted."),
    "order_not_found": N_("This order does not exist or was deleted."),
    "invoice_not_found": N_("This invoice does not exist or was deleted."),
    "product_or_write_in": N_("Name an existing product or a write-in product, not both."),
    "write_in_has_no_unit": N_("A write-in product has no unit."),
    "not_write_in": N_("Only a write-in product line has a typed name."),
    "price_required": N_("A write-in product needs its price per unit."),
    "quantity_decimals": N_("The quantity has more decimals than the product is sold in."),
    "discount_over_amount": N_("The discount is more than the amount it is taken from; lower it."),
    "price_list_currency": N_(
        "The price list is in another currency than the record; choose a price list in the record's currency."
    ),
    "price_list_required": N_("Choose a price list on the record before adding products of the catalogue."),
    "price_list_not_valid": N_("The price list is not valid today; choose a current one."),
    "product_not_in_price_list": N_(
        "The price list has no price for this product in this unit; add one, choose another unit, or override "
        "the price."
    ),
    "price_override_forbidden": N_(
        "You may not override catalogue prices; leave the price per unit out to take the price list's."
    ),
    "currency_required": N_("Give the record its currency first."),
    "currency_has_lines": N_("Remove the opportunity's products before changing its currency."),
    "revenue_system_calculated": N_(
        "The system calculates the estimated revenue from the products; make the revenue user provided to type it."
    ),
    "effective_to_before_effective_from": N_("The quote ends before it starts."),
    "document_closed": N_(
        "This document is read-only: only a draft quote, an active order and an active invoice change "
        "(revise an active quote to change it)."
    ),
    "document_number_taken": N_("This document number is already used; an administrator should move the numbering on."),
    "quote_not_draft": N_("Only a draft quote can be activated."),
    "quote_has_no_lines": N_("Add at least one product to the quote before activating it."),
    "quote_not_active": N_("Only an active quote can be won, closed or revised."),
    "quote_not_won": N_("Only a won quote becomes an order; win it first."),
    "quote_has_order": N_("This quote already has its order."),
    "order_not_active": N_("Only an active order can be submitted."),
    "order_closed": N_("The order is fulfilled or canceled; it cannot be fulfilled or canceled again."),
    "order_canceled": N_("The order is canceled; it cannot be invoiced."),
    "invoice_not_active": N_("Only an active invoice can be paid or canceled; this one is paid or canceled already."),
    "no_price_lock": N_("Quotes have no price lock; revise a quote to price it again."),
    "price_too_large": N_(
        "The price per unit would be over 1,000,000,000,000, the most an amount can be; check the price list item."
    ),
    "amount_too_large": N_(
        "The amount would be over 1,000,000,000,000, the most an amount can be; split the products over several "
        "lines or records."
    ),
    # Duplicate detection rules and jobs
    "rule_published": N_("This rule is published or being published; unpublish it first."),
    "rule_not_published": N_("This rule is not published."),
    "rule_not_publishing": N_("This rule is not being published."),
    "rule_not_found": N_("No duplicate detection rule has this id; it may have been deleted."),
    "too_many_published_rules": N_(
        "This table already has 5 published rules, the most it can have; unpublish one of them first."
    ),
    "no_conditions": N_("A duplicate detection rule needs at least one condition."),
    "unknown_column": N_("The %(table)s table has no column that duplicate detection can compare called %(column)s."),
    "criterion_not_applicable": N_(
        "The criterion cannot compare these columns; choose another criterion or other columns."
    ),
    "column_required": N_("Each condition needs a base column and a matching column."),
    "unknown_criterion": N_("Choose a criterion from the list."),
    "n_required": N_("This criterion needs a number of characters N of at least 1."),
    "n_not_applicable": N_("This criterion takes no number of characters N; leave N empty."),
    "threshold_out_of_range": N_("The similarity threshold must be greater than 0 and at most 1."),
    "threshold_not_applicable": N_("Only the Similar criterion takes a similarity threshold; leave it empty."),
    "unknown_region": N_("Choose a region from the list to read phone numbers written without a country code."),
    "unknown_table": N_("Duplicate detection does not cover this table."),
    "name_required": N_("The rule needs a name."),
    "duplicate_job_not_found": N_("No duplicate detection job has this id."),
    "job_not_queued": N_("This job has already started."),
    # Merges
    "merge_same_record": N_("The master and the subordinate are the same record; a merge needs two different records."),
    "merge_inactive_record": N_(
        "One of the records is inactive or was already merged; only active records can be merged "
        "(reactivate a closed lead first)."
    ),
    "merge_parent_mismatch": N_(
        "These records belong to different parents (%(master_parent)s and %(subordinate_parent)s). Link them to "
        "the same one first, or choose “Merge even if the parents differ”."
    ),
    "merge_across_tables": N_("The two records are not of the same kind; a merge joins two records of the same table."),
    "merge_records_required": N_("Name the two records to merge: the master and the subordinate."),
    "merge_table_not_supported": N_("Only accounts, contacts and leads can be merged."),
    "merge_undo_conflict": N_(
        "This merge cannot be undone because the records or the records moved changed after it; undoing it "
        "would overwrite those changes."
    ),
    "merge_already_undone": N_("This merge was already undone; there is nothing left to undo."),
    "merge_not_found": N_("No merge has this id."),
    "unknown_merge_field": N_("Choose the master's or the subordinate's value for each field of the list."),
    "invalid_merge_choice": N_("Choose the master's or the subordinate's value for each field of the list."),
    # Users and roles
    "role_not_found": N_("No role has this name."),
    "role_exists": N_("A role with this name already exists."),
    "role_required": N_("A user needs at least one role."),
    "role_not_held": N_("The user does not hold this role."),
    "last_administrator": N_("The organisation's last System Administrator cannot lose that role."),
    "user_not_found": N_("No user has this id."),
    "user_exists": N_("A user with this email already exists."),
    "invalid_email": N_("This is not a valid email address."),
    "password_too_short": N_("Passwords need at least %(length)s characters."),
    "business_unit_not_found": N_("No business unit has this name."),
    "cannot_deactivate_self": N_("You cannot deactivate yourself; ask another administrator."),
    "user_inactive": N_("This user is deactivated; choose an active user."),
    "token_not_found": N_("No token has this id."),
    # Business units, teams, role privileges and sharing
    "team_not_found": N_("No team has this id."),
    "team_role_not_held": N_("The team does not hold this role."),
    "privilege_beyond_own": N_(
        "You cannot grant the %(privilege)s privilege on %(table)s at level %(level)s: your own roles do not reach "
        "that far."
    ),
    "share_beyond_own": N_("You can share only the rights you hold on this record yourself."),
    # Signing in, passwords and the second factor
    "not_authenticated": N_("The email or password is wrong."),
    "invalid_token": N_("The access token is not valid; sign in again."),
    "token_revoked": N_("The access token was revoked; sign in again."),
    "token_expired": N_("The access token has expired; sign in again."),
    "too_many_attempts": N_("Too many wrong attempts from here: wait %(retry_after)s seconds before trying again."),
    "wrong_password": N_("The current password is wrong."),
    "password_too_common": N_(
        "This password is one of the most common ones, which attackers try first; choose another."
    ),
    "passwords_differ": N_("The two new passwords are not the same; type the same one twice."),
    "reset_link_invalid": N_(
        "This password link is not valid any more (used, expired or replaced); ask an administrator for a new one."
    ),
    "second_step_expired": N_("This sign-in has expired; enter your email and password again."),
    "wrong_code": N_("The code is wrong or was already used; enter the current code of the authenticator app."),
    "two_factor_on": N_("Two-factor sign-in is already on; turn it off first to use a new device."),
    "two_factor_not_started": N_("Start setting up two-factor sign-in first."),
    "two_factor_enrolment_required": N_(
        "Your role requires two-factor sign-in: sign in to the web app once to set it up."
    ),
    # Activities: tasks, phone calls, appointments, e-mails and the calendar feed
    "activity_not_found": N_("This activity does not exist or was deleted."),
    "not_for_type": N_("Some fields belong to another type of activity; leave them out."),
    "end_before_start": N_("The appointment ends before it starts."),
    "start_required": N_("An appointment needs a start."),
    "regarding_incomplete": N_("Name both the table and the record the activity regards."),
    "regarding_id_not_found": N_("The record the activity regards does not exist, or you may not read it."),
    "attendees_not_found": N_("An attendee is neither an active user nor a contact you may read."),
    "invalid_status_reason": N_("This type of activity has no such status reason; choose one of those offered."),
    "set_by_sending": N_("An e-mail becomes sent only by sending it."),
    "no_recipient": N_("An e-mail to send needs at least one recipient."),
    "incoming_not_sent": N_("An incoming e-mail is recorded, not sent."),
    "activity_closed": N_("This activity is completed or canceled, and read-only; reopen it to change it."),
    "activity_canceled": N_("This activity is canceled; reopen it to go on with it."),
    "activity_completed": N_("This activity is already completed; reopen it to go on with it."),
    "activity_open": N_("This activity is already open."),
    "email_sent": N_("This e-mail was sent (or is being sent); it cannot be reopened."),
    "email_not_draft": N_("Only a draft or failed e-mail can be sent."),
    "not_an_email": N_("Only e-mails are sent; this activity is not one."),
    "use_complete_or_cancel": N_("Complete or cancel the activity to give it a closed status reason."),
    "smtp_not_configured": N_(
        "No mail server is configured, so leadflow cannot send e-mail; record it without sending, or ask an "
        "administrator to configure one."
    ),
    "feed_not_found": N_("No calendar feed has this address; it was revoked or replaced."),
    "invalid_view": N_(
        "There is no such view of activities; choose my_open, due_today, overdue or completed_this_week."
    ),
    "invalid_type": N_("There is no such kind of entry; choose note, task, phone_call, appointment, email or close."),
    "invalid_datetime": N_("A time is out of the range that can be stored; check it."),
    "missing": N_("Some required fields are empty; fill them in."),
}

# The message next to a field, by the field problem's code (leadflow.core.schemas and the form readers).
FIELD_MESSAGES = {
    "required": N_("This field is required."),
    "invalid_option": N_("Choose one of the options."),
    "too_long": N_("This value is too long."),
    "too_many": N_("There are too many items."),
    "out_of_range": N_("This value is out of range."),
    "too_precise": N_("Use fewer decimals: an amount takes four, a quantity five."),
    "invalid_email": N_("Enter a valid email address, like name@example.com."),
    "invalid_id": N_("Choose a record from the list."),
    "not_found": N_("The chosen record no longer exists."),
    "invalid_amount": N_("Enter an amount, for example 25000.50."),
    "invalid_date": N_("Enter a date."),
    "unknown_field": N_("This field cannot be changed here."),
    "invalid_value": N_("This value is not valid."),
    "invalid_character": N_("This value contains a character that cannot be saved (such as a NUL); remove it."),
    # Custom fields, their filters and their mappings
    "invalid_phone": N_("Enter a phone number, like +34 912 345 678."),
    "invalid_url": N_("Enter a web address that starts with http:// or https://."),
    "invalid_name": N_(
        "Use 1 to 40 lower-case letters, digits and single underscores, starting with a letter (for example: region)."
    ),
    "reserved_name": N_("This name is reserved; choose another."),
    "builtin_name": N_("The table already has a built-in field with this name; choose another."),
    "field_exists": N_("The table already has a custom field with this name; choose another."),
    "duplicate_option": N_("Two options have the same value; give each its own."),
    "not_applicable": N_("This setting does not apply to this kind of field; leave it empty."),
    "unreadable_table": N_("You cannot read that table, so you cannot point a lookup to it."),
    "hidden_field": N_("This field is hidden; an administrator can show it again."),
    "invalid_filter": N_("This filter is not valid; check the field, the operator and the value."),
    "incompatible_mapping": N_(
        "The lead's field cannot fill this field; map a field of the same kind, or a text field."
    ),
    "wrong_password": N_("The current password is wrong."),
    "passwords_differ": N_("The two passwords are not the same."),
    "competitor_required": N_("Choose the competitor who won the deal."),
    # The product catalogue and product lines
    "unit_group_not_found": N_("The chosen record no longer exists."),
    "unit_not_found": N_("The chosen record no longer exists."),
    "family_not_found": N_("The chosen record no longer exists."),
    "product_not_found": N_("The chosen record no longer exists."),
    "price_list_not_found": N_("The chosen record no longer exists."),
    "discount_list_not_found": N_("The chosen record no longer exists."),
    "unit_group_name_taken": N_("This name is already used; choose another."),
    "unit_name_taken": N_("This name is already used; choose another."),
    "family_name_taken": N_("This name is already used; choose another."),
    "price_list_name_taken": N_("This name is already used; choose another."),
    "discount_list_name_taken": N_("This name is already used; choose another."),
    "product_number_taken": N_("This number is already used; choose another."),
    "price_list_item_exists": N_("The price list already prices this product in this unit."),
    "base_unit_quantity": N_("A base unit is always a quantity of 1."),
    "unit_not_in_group": N_("Choose a unit of the product's unit group."),
    "product_not_active": N_("Choose an active product."),
    "product_not_draft": N_("Only a draft product can change its unit group."),
    "amount_required": N_("Give the amount."),
    "percentage_required": N_("Give the percentage."),
    "margin_percentage_too_high": N_("A margin must be below 100 %."),
    "rounding_option_required": N_("Choose whether the price ends in the amount or is a multiple of it."),
    "rounding_amount_required": N_("Give the amount the price is rounded to."),
    "discount_list_currency": N_("Choose a discount list in the price list's currency."),
    "discount_over_100": N_("A percentage discount is at most 100."),
    "tiers_overlap": N_("This tier overlaps the one before it."),
    "valid_to_before_valid_from": N_("The end date comes before the start date."),
    "price_list_item_amount_missing": N_("The price list cannot price this product."),
    "product_list_price_missing": N_("The price list cannot price this product."),
    "product_current_cost_missing": N_("The price list cannot price this product."),
    "product_standard_cost_missing": N_("The price list cannot price this product."),
    "product_or_write_in": N_("Name an existing product or a write-in product, not both."),
    "write_in_has_no_unit": N_("A write-in product has no unit."),
    "not_write_in": N_("Only a write-in product line has a typed name."),
    "price_required": N_("A write-in product needs its price per unit."),
    "quantity_decimals": N_("The quantity has more decimals than the product is sold in."),
    "discount_over_amount": N_("The discount is more than the amount it is taken from."),
    "price_list_currency": N_("Choose a price list in the record's currency."),
    "price_list_required": N_("Choose a price list first."),
    "price_list_not_valid": N_("The price list is not valid today."),
    "product_not_in_price_list": N_("The price list has no price for this product in this unit."),
    "currency_required": N_("Give the currency first."),
    "currency_has_lines": N_("Remove the opportunity's products before changing its currency."),
    "revenue_system_calculated": N_("The system calculates it from the products."),
    "effective_to_before_effective_from": N_("The quote ends before it starts."),
    "price_too_large": N_("The price per unit is over the most an amount can be."),
    "amount_too_large": N_("The line's amount is over the most an amount can be."),
    # A cell of an imported file
    "invalid_number": N_("This is not a number; write it as 25000.50 or 25.000,50."),
    "invalid_integer": N_("Write a whole number."),
    "invalid_boolean": N_("Write yes or no."),
    "invalid_choice": N_("This is none of the options; write an option's label, in English or Spanish, or its code."),
    "ambiguous_choice": N_("This label names more than one option; write the option's code."),
    "lookup_not_found": N_("No record goes by this name; create it first or check the spelling."),
    "lookup_ambiguous": N_("Several records go by this name; write the record's id instead."),
    "base_currency_rate": N_("The base currency's exchange rate is 1."),
    "closed": N_("This opportunity is closed."),
    "other_customer": N_("This opportunity is not one of the lead's account or contact."),
    # Activities
    "not_for_type": N_("This type of activity has no such field."),
    "end_before_start": N_("The end comes before the start."),
    "start_required": N_("An appointment needs a start."),
    "regarding_incomplete": N_("Name both the table and the record."),
    "invalid_status_reason": N_("Choose one of this type's status reasons."),
    "set_by_sending": N_("Sending sets this status."),
    "no_recipient": N_("Give at least one recipient."),
    "incoming_not_sent": N_("An incoming e-mail is recorded, not sent."),
    "use_complete_or_cancel": N_("Complete or cancel the activity instead."),
    "invalid_view": N_("Choose one of the views."),
    "invalid_type": N_("Choose one of the kinds of entry."),
    "invalid_datetime": N_("This time cannot be stored."),
    "missing": N_("This field is required."),
}

# A refusal of one custom field, filter or mapping reads as its field's sentence.
REFUSALS.update(
    {
        code: FIELD_MESSAGES[code]
        for code in (
            "invalid_name",
            "reserved_name",
            "builtin_name",
            "field_exists",
            "duplicate_option",
            "unreadable_table",
            "hidden_field",
            "invalid_filter",
            "incompatible_mapping",
        )
    }
)


def field_items(error: LeadflowError | None) -> list[dict[str, Any]]:
    """The problems with single fields a refusal lists (``details.fields``), each naming its field."""
    details = error.details if error is not None and isinstance(error.details, dict) else {}
    return [item for item in details.get("fields") or () if isinstance(item, dict) and "field" in item]


def _detail_values(language: str, error: LeadflowError) -> dict[str, Any]:
    """The values a code's sentence names, labelled in the user's language."""
    details = error.details if isinstance(error.details, dict) else {}
    values: dict[str, Any] = {key: value for key, value in details.items() if isinstance(value, str | int)}
    if "privilege" in values:
        values["privilege"] = label(language, PRIVILEGE_LABELS, values["privilege"])
    if "table" in values:
        values["table"] = label(language, TABLE_LABELS, values["table"])
    if "level" in values:
        level = {message: depth for depth, message in DEPTH_LABELS.items()}.get(values["level"])
        values["level"] = label(language, DEPTH_LABELS, level) if level is not None else values["level"]
    if "column" in values and "table" not in details:
        values["table"] = ""
    values["length"] = MIN_PASSWORD_LENGTH
    return values


def refusal_text(language: str, error: LeadflowError) -> str:
    """Why the request was refused, in the user's language (see the module's docstring)."""
    if language == DEFAULT_LANGUAGE:
        return error.message
    word_for_word = gettext(language, error.message)
    if word_for_word != error.message:
        return word_for_word
    message = REFUSALS.get(error.code) or (REFUSALS["validation_failed"] if field_items(error) else None)
    if message is None:
        return error.message
    sentence = gettext(language, message)
    try:
        return sentence % _detail_values(language, error) if "%(" in sentence else sentence
    except (KeyError, ValueError, TypeError):
        return error.message


def field_message(language: str, item: dict[str, Any]) -> str:
    """The message of one field's problem, by its code; in English, the service's own sentence for a
    code without a message here."""
    message = FIELD_MESSAGES.get(str(item.get("code", "")))
    if message is None and language == DEFAULT_LANGUAGE and item.get("message"):
        return str(item["message"])
    return gettext(language, message or FIELD_MESSAGES["invalid_value"])


# The codes of a refusal that is only the sum of its fields' problems (leadflow.core.schemas): its
# sentence is theirs, each named by its field.
_FIELD_PROBLEM_CODES = frozenset(
    {
        "validation_failed",
        "required",
        "invalid_option",
        "invalid_value",
        "invalid_email",
        "invalid_id",
        "out_of_range",
        "too_long",
        "too_many",
        "too_precise",
        "unknown_field",
        "invalid_character",
    }
)


def answer_text(language: str, error: LeadflowError) -> str:
    """The sentence of an API answer: the refusal's (as ``refusal_text``), except that a refusal of
    fields names each field with its problem, as the English sentence does; no page shows them beside."""
    if language == DEFAULT_LANGUAGE:
        return error.message
    items = field_items(error)
    if items and error.code in _FIELD_PROBLEM_CODES and gettext(language, error.message) == error.message:
        return " ".join(f"{item['field']}: {field_message(language, item)}" for item in items)
    return refusal_text(language, error)


def answer_details(language: str, error: LeadflowError) -> Any:
    """The details of an API answer: each field's message in the language; fields and codes unchanged."""
    if language == DEFAULT_LANGUAGE or not field_items(error):
        return error.details
    assert isinstance(error.details, dict)
    fields = [
        {**item, "message": field_message(language, item)} if isinstance(item, dict) and "field" in item else item
        for item in error.details["fields"]
    ]
    return {**error.details, "fields": fields}
