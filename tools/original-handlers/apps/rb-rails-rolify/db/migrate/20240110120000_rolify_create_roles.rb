class RolifyCreateRoles < ActiveRecord::Migration[7.1]
  def change
    create_table(:roles) do |t|
      t.string :name
      t.references :resource, polymorphic: true
      t.timestamps
    end
    create_table(:users_roles, id: false) do |t|
      t.references :user
      t.references :role
    end
  end
end
