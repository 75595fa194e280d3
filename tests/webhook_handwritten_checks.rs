//! A hand-written Stripe signature check in the WooCommerce style: the header is
//! matched with `preg_match`, the computed HMAC looked for with a `preg_quote`d
//! pattern, the tolerance written with WordPress time constants, and the result a
//! status constant the caller compares. Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const HANDLER: &str = r#"<?php

class WC_Stripe_Webhook_Handler {
	public function check_for_webhook() {
		$request_body    = file_get_contents( 'php://input' );
		$request_headers = array_change_key_case( getallheaders(), CASE_UPPER );

		$validation_result = $this->validate_request( $request_headers, $request_body );
		if ( WC_Stripe_Webhook_State::VALIDATION_SUCCEEDED === $validation_result ) {
			$this->process_webhook( $request_body );
			status_header( 200 );
			exit;
		} else {
			WC_Stripe_Logger::log( 'Incoming webhook failed validation' );
			status_header( 400 );
			exit;
		}
	}

	public function validate_request( $request_headers, $request_body ) {
		if ( empty( $this->secret ) ) {
			return WC_Stripe_Webhook_State::VALIDATION_FAILED_EMPTY_SECRET;
		}
		$signature_format = '/^t=(?P<timestamp>\d+)(?P<signatures>(,v\d+=[a-z0-9]+){1,2})$/';
		if ( empty( $request_headers['STRIPE-SIGNATURE'] ) || ! preg_match( $signature_format, $request_headers['STRIPE-SIGNATURE'], $matches ) ) {
			return WC_Stripe_Webhook_State::VALIDATION_FAILED_SIGNATURE_INVALID;
		}
		$timestamp = intval( $matches['timestamp'] );
		if ( abs( $timestamp - time() ) > 5 * MINUTE_IN_SECONDS ) {
			return WC_Stripe_Webhook_State::VALIDATION_FAILED_TIMESTAMP_MISMATCH;
		}
		$signed_payload     = $timestamp . '.' . $request_body;
		$expected_signature = hash_hmac( 'sha256', $signed_payload, $this->secret );
		if ( ! preg_match( '/,v\d+=' . preg_quote( $expected_signature, '/' ) . '/', $matches['signatures'] ) ) {
			return WC_Stripe_Webhook_State::VALIDATION_FAILED_SIGNATURE_MISMATCH;
		}
		return WC_Stripe_Webhook_State::VALIDATION_SUCCEEDED;
	}

	public function process_webhook( $request_body ) {
		$notification = json_decode( $request_body );
		switch ( $notification->type ) {
			case 'customer.subscription.deleted':
				$user = get_user_by_customer( $notification->data->object->customer );
				update_user_meta( $user->ID, 'is_premium', false );
				break;
		}
	}
}
"#;

const PATH: &str = "includes/class-wc-stripe-webhook-handler.php";

#[test]
fn a_preg_match_of_the_computed_signature_is_verification() {
    // Quiet: only the log message changes; the check is seen, so nothing says it is missing.
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(dir.path(), PATH, &HANDLER.replace("'Incoming webhook failed validation'", "'Webhook failed validation'"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    let low_wh001 = v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH001");
    assert!(!low_wh001, "the preg_match check verifies: {v:#}");

    // A month-long window accepts replays.
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(dir.path(), PATH, &HANDLER.replace("5 * MINUTE_IN_SECONDS", "30 * DAY_IN_SECONDS"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH015".to_string()), "{v:#}");
}

#[test]
fn a_check_that_answers_succeeded_without_a_secret_is_wh003() {
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(
        dir.path(),
        PATH,
        &HANDLER.replace(
            "\t\t\treturn WC_Stripe_Webhook_State::VALIDATION_FAILED_EMPTY_SECRET;",
            "\t\t\tWC_Stripe_Logger::log( 'No secret: skipping verification' );\n\t\t\treturn WC_Stripe_Webhook_State::VALIDATION_SUCCEEDED;",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");

    // Quiet: a missing secret still fails the check, logged first.
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(
        dir.path(),
        PATH,
        &HANDLER.replace(
            "\t\t\treturn WC_Stripe_Webhook_State::VALIDATION_FAILED_EMPTY_SECRET;",
            "\t\t\tWC_Stripe_Logger::log( 'No webhook secret set' );\n\t\t\treturn WC_Stripe_Webhook_State::VALIDATION_FAILED_EMPTY_SECRET;",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn answering_2xx_to_a_failed_validation_is_no_swallowed_processing_error() {
    // Quiet: Stripe is told 204 for a bad signature so it keeps the endpoint enabled;
    // processing still stops there.
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(
        dir.path(),
        PATH,
        &HANDLER.replace(
            "\t\t\tstatus_header( 400 );",
            "\t\t\t// A webhook endpoint must return a 2xx status code to keep deliveries coming.\n\t\t\t// @see https://stripe.com/docs/webhooks\n\t\t\tstatus_header( 204 );",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The processing branch answering 200 after a failure it caught is WH010.
    let dir = committed_repo(&[(PATH, HANDLER)]);
    write(
        dir.path(),
        PATH,
        &HANDLER.replace(
            "\t\t\t$this->process_webhook( $request_body );\n",
            "\t\t\ttry {\n\t\t\t\t$this->process_webhook( $request_body );\n\t\t\t} catch ( Exception $e ) {\n\t\t\t\tWC_Stripe_Logger::log( $e->getMessage() );\n\t\t\t}\n",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

const RCP: &str = r#"<?php

class RCP_Payment_Gateway_Stripe {
	public function process_webhooks() {
		$body  = @file_get_contents( 'php://input' );
		$event_json_id = json_decode( $body );
		try {
			$event = \Stripe\Event::retrieve( $event_json_id->id );
			$membership = rcp_get_membership_by( 'gateway_subscription_id', $event->data->object->id );
			if ( $event->type == 'customer.subscription.deleted' ) {
				if ( $membership->is_active() ) {
					$membership->cancel();
					$membership->add_note( 'Membership cancelled via Stripe webhook.' );
				}
			}
		} catch ( Exception $e ) {
			rcp_log( 'Exiting Stripe webhook due to PHP exception: ' . $e->getMessage() );
			wp_send_json_error( [ 'message' => $e->getMessage() ], 500 );
		}
		wp_send_json_success( [ 'message' => 'Webhook processed' ] );
	}
}
"#;

const RCP_PATH: &str = "core/includes/gateways/class-rcp-payment-gateway-stripe.php";

#[test]
fn wordpress_json_answers_carry_their_status_and_a_memberships_cancel_revokes() {
    // Quiet: the failure still answers 500 through wp_send_json_error, with another message.
    let dir = committed_repo(&[(RCP_PATH, RCP)]);
    write(dir.path(), RCP_PATH, &RCP.replace("[ 'message' => $e->getMessage() ], 500", "[ 'message' => 'Stripe webhook failed' ], 500"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // wp_send_json_error without a status answers 200: the failure is acknowledged.
    let dir = committed_repo(&[(RCP_PATH, RCP)]);
    write(dir.path(), RCP_PATH, &RCP.replace("[ 'message' => $e->getMessage() ], 500", "[ 'message' => $e->getMessage() ]"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // The membership is no longer cancelled when the subscription is deleted.
    let dir = committed_repo(&[(RCP_PATH, RCP)]);
    write(dir.path(), RCP_PATH, &RCP.replace("\t\t\t\t\t$membership->cancel();\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}
