//! Verification done by a method of another file (`h.validator.ValidateEvent(ctx, sig, body)`
//! whose body calls the SDK's `client.Webhooks.Verify`): the handler verifies through it, a
//! change to the validator alone is reviewed through the handler that calls it, and an early
//! "valid" answer inside the validator when the signature is empty is WH003. The handler
//! answers through helpers that name their status (`responseNoContent`), read as such.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const HANDLER: &str = r#"package handlers

import (
	"context"
	"encoding/json"

	"example.com/app/pkg/services"
	"example.com/app/pkg/validators"
	"github.com/gofiber/fiber/v2"
)

type LemonsqueezyHandler struct {
	service   *services.BillingService
	validator *validators.LemonsqueezyValidator
}

func (h *LemonsqueezyHandler) Event(c *fiber.Ctx) error {
	signature := c.Get("X-Signature")
	if errors := h.validator.ValidateEvent(c.Context(), signature, c.Body()); len(errors) != 0 {
		return h.responseUnprocessableEntity(c, errors)
	}
	if err := h.handleRequest(c.Context(), c); err != nil {
		return h.responseInternalServerError(c)
	}
	return h.responseNoContent(c, "event consumed")
}

func (h *LemonsqueezyHandler) handleRequest(ctx context.Context, c *fiber.Ctx) error {
	var request services.SubscriptionRequest
	if err := json.Unmarshal(c.Body(), &request); err != nil {
		return err
	}
	switch c.Get("X-Event-Name") {
	case "subscription_created":
		return h.service.ActivatePlan(ctx, &request)
	case "subscription_expired":
		return h.service.ExpirePlan(ctx, &request)
	}
	return nil
}

func (h *LemonsqueezyHandler) responseUnprocessableEntity(c *fiber.Ctx, errors map[string][]string) error {
	return c.Status(422).JSON(errors)
}

func (h *LemonsqueezyHandler) responseInternalServerError(c *fiber.Ctx) error {
	return c.SendStatus(500)
}

func (h *LemonsqueezyHandler) responseNoContent(c *fiber.Ctx, message string) error {
	return c.SendStatus(204)
}
"#;

const VALIDATOR: &str = r#"package validators

import (
	"context"

	lemonsqueezy "github.com/NdoleStudio/lemonsqueezy-go"
)

type LemonsqueezyValidator struct {
	client *lemonsqueezy.Client
}

// ValidateEvent checks that an event is coming from Lemon Squeezy.
func (validator *LemonsqueezyValidator) ValidateEvent(ctx context.Context, signature string, request []byte) map[string][]string {
	isValid := validator.client.Webhooks.Verify(ctx, signature, request)
	if !isValid {
		return map[string][]string{"body": {"The signature is not valid"}}
	}
	return map[string][]string{}
}
"#;

const SERVICE: &str = r#"package services

import (
	"context"

	"gorm.io/gorm"
)

type SubscriptionRequest struct {
	Data struct {
		Attributes struct {
			UserEmail string `json:"user_email"`
		} `json:"attributes"`
	} `json:"data"`
}

type BillingService struct {
	db *gorm.DB
}

func (s *BillingService) ActivatePlan(ctx context.Context, r *SubscriptionRequest) error {
	return s.db.Exec("UPDATE users SET plan = 'pro', has_paid_access = true WHERE id = ?", r.Data.Attributes.UserEmail).Error
}

func (s *BillingService) ExpirePlan(ctx context.Context, r *SubscriptionRequest) error {
	return s.db.Exec("UPDATE users SET plan = 'free', has_paid_access = false WHERE id = ?", r.Data.Attributes.UserEmail).Error
}
"#;

fn repo() -> tempfile::TempDir {
    committed_repo(&[
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
        ("pkg/handlers/lemonsqueezy_handler.go", HANDLER),
        ("pkg/validators/lemonsqueezy_validator.go", VALIDATOR),
        ("pkg/services/billing_service.go", SERVICE),
    ])
}

#[test]
fn a_handler_verifying_through_a_validator_of_another_file_is_verified() {
    let dir = repo();
    write(dir.path(), "pkg/handlers/lemonsqueezy_handler.go", &HANDLER.replace("\"event consumed\"", "\"ok\""));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    let shown = v["scope"]["handler_files"][0]["verification"].to_string();
    assert!(shown.contains("ValidateEvent"), "the validator is named as the verification: {shown}");
}

#[test]
fn a_validator_that_answers_valid_without_a_signature_is_wh003_through_its_handler() {
    let dir = repo();
    let skipping = VALIDATOR.replace(
        "\tisValid := ",
        "\tif signature == \"\" {\n\t\treturn map[string][]string{}\n\t}\n\tisValid := ",
    );
    assert_ne!(skipping, VALIDATOR);
    write(dir.path(), "pkg/validators/lemonsqueezy_validator.go", &skipping);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
    assert_eq!(v["scope"]["handler_files"][0]["path"], "pkg/handlers/lemonsqueezy_handler.go", "{v:#}");
}

#[test]
fn a_validator_that_refuses_an_empty_signature_early_is_quiet() {
    let dir = repo();
    let refusing = VALIDATOR.replace(
        "\tisValid := ",
        "\tif signature == \"\" {\n\t\treturn map[string][]string{\"signature\": {\"missing\"}}\n\t}\n\tisValid := ",
    );
    write(dir.path(), "pkg/validators/lemonsqueezy_validator.go", &refusing);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_processing_failure_answered_through_a_no_content_helper_is_wh010() {
    let dir = repo();
    write(dir.path(), "pkg/handlers/lemonsqueezy_handler.go", &HANDLER.replace("return h.responseInternalServerError(c)", "return h.responseNoContent(c, \"received\")"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}
