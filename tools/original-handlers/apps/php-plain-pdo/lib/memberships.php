<?php

function set_membership_status(PDO $pdo, string $customerId, string $status): void
{
    $stmt = $pdo->prepare('UPDATE memberships SET status = :status, updated_at = NOW() WHERE stripe_customer_id = :cid');
    $stmt->execute([':status' => $status, ':cid' => $customerId]);
}

function membership_grants_access(array $row): bool
{
    return in_array($row['status'], ['active', 'trialing'], true);
}
